"""6. Soak: signed-in viewers with live streams for a long while, ingest at a steady rate.

    python -m bench.soak [--viewers 50] [--minutes 10] [--rate 100] [--redis-url URL]

A ``crisisdash serve`` (``tests.conftest.start_server``, with its ingest
workers) on its own prefix ``bench-<uuid>:soak``; ``viewers`` duty officers
(nation MK) each signed in through the real ``/login`` form (session cookie),
each holding a ``/live/alerts`` stream open (server-sent events, resumed with
``Last-Event-ID`` if it drops or is told to ``rebuild``) for ``minutes``, while a producer thread XADDs
messages to the inbox at ``rate`` alerts/s in ticks of 100 ms: synthetic alerts
(``bench.common.make_alerts``, 90 % releasable to all) and, once an alert is ``--lifetime`` seconds
old, its cancellation (``msg_type`` ``cancel``), so in a steady state half the messages open an
incident and half close one, as in a long crisis where incidents end. The server keeps a closed alert
in memory for ``--horizon`` seconds (``CRISIS_MEMORY_HORIZON``), so what it holds levels off at about
``rate / 2 * (lifetime + horizon)`` alerts (``--lifetime 0``: nothing is cancelled, and the read model
holds every alert sent). Meanwhile one API request
a second (``GET /api/v1/alerts?limit=50``, ``/api/v1/summary``,
``/api/v1/me`` in turn, as a rotating viewer) is timed.

Figures (times in ms, memory in MiB printed as MB):

- **server RSS over time** (``VmRSS`` of the server process every ``--sample-s``
  seconds, with the alerts stored so far and the alerts its read model holds,
  from ``/api/v1/health`` as an admin), and **the RSS slope over the second half
  of the run** (MB per minute: about 0 when flat);
- **a fresh server's RSS on the same alerts**: at the end a second server
  starts on the same prefix, loads every stored alert and answers the same
  API requests. Nothing a long run could accumulate is in it, so a leak shows
  as the soaked server's RSS well above it;
- **API latency p50/p95/max** under load, beside the **baseline**: the same
  requests, same client, before the viewers connect and the producer starts;
- **errors** (expected 0): non-2xx API answers, live streams that ended or
  failed, streams told to ``rebuild`` (they fell ``CRISIS_LIVE_MAX_LAG``
  seconds behind the live feed; each resumes from its last id), alerts a viewer should have received (released to MK) but did not
  by the end (60 s after the producer stopped), and alerts sent (new ones and
  cancellations) that are not stored; plus how far the producer fell behind its rate.

``--per-alert`` measures instead, in this process, what one stored alert
costs the read model (``tracemalloc``: the ``StoredAlert`` object, then the
index's row, maps and table) and what one live frame costs (``alert_data``,
``json.dumps``, ``sse_frame``: done once per event per group of viewers with
the same filters, nation and clearance; the 50 soak viewers are one group).

The server's sign-in rate per address is raised to twice the viewers (all
sign in from 127.0.0.1). Keys are deleted at the end, whatever happens. Not
run by the test suite. Results: ``bench/README.md``, section 6.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import random
import re
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from bench.common import client_for, delete_prefix, encode, fmt_ms, load_places, loadavg, make_alerts, pct, print_table

API_PATHS = ("/api/v1/alerts?limit=50", "/api/v1/summary", "/api/v1/me")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def rss_mb(pid: int) -> float | None:
    """``VmRSS`` of process ``pid`` in MiB (Linux ``/proc``; None elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def sign_in(base: str, name: str, password: str) -> dict[str, str]:
    """The session cookies of ``name`` signed in through the ``/login`` form (waits out a 429's Retry-After)."""
    while True:
        with httpx.Client(base_url=base, timeout=30) as web:
            csrf = _CSRF.search(web.get("/login").text).group(1)
            answer = web.post("/login", data={"csrf": csrf, "username": name, "password": password, "next": "/"})
            if answer.status_code == 303:
                return dict(web.cookies)
            if answer.status_code != 429:
                raise RuntimeError(f"sign-in of {name} answered {answer.status_code}")
            time.sleep(float(answer.headers.get("retry-after", "1")))


class Viewers:
    """``len(cookies)`` live streams on one asyncio loop in a thread; counts ``alert`` events per viewer."""

    def __init__(self, base: str, cookies: list[dict[str, str]]):
        self.base = base
        self.cookies = cookies
        self.received = [set() for _ in cookies]
        self.opened = [threading.Event() for _ in cookies]
        self.drops = 0
        self.rebuilds = 0
        self.failures: list[str] = []
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="viewers", daemon=True)

    async def _viewer(self, n: int) -> None:
        last_id = None
        async with httpx.AsyncClient(base_url=self.base, cookies=self.cookies[n], timeout=None) as web:
            while not self._stop.is_set():
                headers = {"Last-Event-ID": last_id} if last_id else {}
                try:
                    async with web.stream("GET", "/live/alerts", headers=headers) as response:
                        if response.status_code != 200:
                            self.failures.append(f"viewer {n}: /live/alerts answered {response.status_code}")
                            await asyncio.sleep(1)
                            continue
                        self.opened[n].set()
                        kind, rebuilt = None, False
                        async for line in response.aiter_lines():
                            if line.startswith("event: "):
                                kind = line[7:]
                            elif line.startswith("id: "):
                                last_id = line[4:]
                            elif line.startswith("data: ") and kind == "alert":
                                start = line.find('"id": "') + 7
                                self.received[n].add(line[start:line.find('"', start)])
                            elif line.startswith("data: ") and kind == "rebuild":
                                # fell CRISIS_LIVE_MAX_LAG behind: resume from the last id (the server replays
                                # what was dropped, so the count of missing alerts stays exact), or from now
                                # when the replay itself was too long
                                rebuilt = True
                                self.rebuilds += 1
                                last_id = last_id if "behind" in line else None
                    if not self._stop.is_set() and not rebuilt:
                        self.drops += 1
                except (httpx.HTTPError, OSError) as exc:
                    if not self._stop.is_set():
                        self.drops += 1
                        self.failures.append(f"viewer {n}: {type(exc).__name__}: {exc}")

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        tasks = [asyncio.create_task(self._viewer(n)) for n in range(len(self.cookies))]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> None:
        """Open every stream; returns once all of them answered."""
        self._thread.start()
        for opened in self.opened:
            if not opened.wait(60):
                raise RuntimeError("a viewer's live stream did not open within 60 s")

    def stop(self) -> None:
        """Close every stream."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


def time_requests(base: str, cookies: list[dict[str, str]], count: int, every_s: float, stop: threading.Event | None = None
                  ) -> tuple[list[float], list[str]]:
    """``count`` API requests (``API_PATHS`` in turn, as the viewers in turn), one every ``every_s`` seconds
    (until ``stop``): latencies in ms, and one line per non-2xx answer or failure."""
    clients = [httpx.Client(base_url=base, cookies=c, timeout=30) for c in cookies[:5]]
    latencies, errors = [], []
    try:
        for i, path in zip(range(count), itertools.cycle(API_PATHS)):
            if stop is not None and stop.is_set():
                break
            web = clients[i % len(clients)]
            t0 = time.perf_counter()
            try:
                answer = web.get(path)
                latencies.append((time.perf_counter() - t0) * 1000)
                if not answer.is_success:
                    errors.append(f"{path}: {answer.status_code}")
            except httpx.HTTPError as exc:
                errors.append(f"{path}: {type(exc).__name__}")
            if every_s and (stop.wait(every_s) if stop is not None else time.sleep(every_s)):
                break
    finally:
        for web in clients:
            web.close()
    return latencies, errors


def produce(url: str, keys: Keys, rate: float, lifetime: float, stop: threading.Event, sent: list[dict]) -> None:
    """XADD ``rate`` messages/s to the inbox in ticks of 100 ms until ``stop``: the cancellation of each alert
    sent ``lifetime`` seconds before (none with 0), then new alerts for the rest of the tick; appends each
    message sent to ``sent``."""
    client, rng, places = client_for(url), random.Random(7), load_places()
    per_tick, tick, n = max(1, round(rate / 10)), 0, 0
    to_cancel: collections.deque[tuple[float, dict]] = collections.deque()
    started = time.monotonic()
    while not stop.is_set():
        now, messages = time.monotonic(), []
        while lifetime and to_cancel and to_cancel[0][0] <= now and len(messages) < per_tick:
            original = to_cancel.popleft()[1]
            messages.append({**original, "id": f"{original['id']}-cancel", "msg_type": "cancel",
                             "references": [original["id"]], "title": f"Cancel {original['id']}"})
        alerts = make_alerts(per_tick - len(messages), "soak", rng, places, spread_minutes=60, start=n)
        to_cancel.extend((now + lifetime, a) for a in alerts)
        messages += alerts
        send_to_stream(client, keys, encode(messages))
        sent.extend(messages)
        n += len(alerts)
        tick += 1
        stop.wait(max(0.0, started + tick * 0.1 - time.monotonic()))
    client.close()


def held(base: str, cookies: dict[str, str]) -> int | None:
    """The alerts the server's read model holds (``/api/v1/health`` as an admin; None if it did not say)."""
    try:
        return httpx.get(f"{base}/api/v1/health", cookies=cookies, timeout=30).json().get("alerts_held")
    except (httpx.HTTPError, ValueError):
        return None


def not_stored(redis, keys: Keys, sent: list[dict]) -> int:
    """How many of the messages ``sent`` have no stored alert (by id, pipelined ``EXISTS``)."""
    missing = 0
    for start in range(0, len(sent), 1000):
        with redis.pipeline(transaction=False) as pipe:
            for message in sent[start:start + 1000]:
                pipe.exists(keys.alert(message["id"]))
            missing += sum(1 for found in pipe.execute() if not found)
    return missing


def fresh_server_rss(url: str, prefix: str, cookies: dict[str, str], stored: int) -> float | None:
    """RSS (MiB) of a second, freshly started server on the same prefix once its read model holds the
    ``stored`` alerts and has answered the same API requests: what the alerts themselves cost, with nothing
    that a long run could have accumulated (a leak shows as the soaked server's RSS well above this)."""
    from tests.conftest import RunningServer, _spawn, _wait_healthy, free_port, stop_server

    port = free_port()
    process = _spawn(["serve", "--redis-url", url, "--prefix", prefix, "--port", str(port)])  # as the soaked one
    fresh = RunningServer(f"http://127.0.0.1:{port}", prefix, url, process, port, [])
    try:
        _wait_healthy(fresh.url, process, timeout=600)  # it reads every stored alert first
        time_requests(fresh.url, [cookies], len(API_PATHS), 0)
        return rss_mb(process.pid)
    except AssertionError as exc:  # it did not come up: say so, keep the soak's figures
        print(f"the fresh server did not answer: {exc}")
        return None
    finally:
        stop_server(fresh)


def soak(url: str, viewers: int, minutes: float, rate: float, sample_s: float, lifetime: float = 60.0,
         horizon: float = 60.0) -> dict:
    """Run the soak (module docstring); returns the figures and prints the tables."""
    from tests.conftest import add_user, start_server, stop_server

    prefix = f"bench-{uuid.uuid4().hex[:8]}:soak"
    redis = client_for(url)
    # all viewers sign in from 127.0.0.1 at start: room for them in the per-address sign-in rate
    os.environ.setdefault("CRISIS_LOGIN_RATE", f"{max(20, 2 * viewers)}/minute")
    os.environ["CRISIS_MEMORY_HORIZON"] = str(horizon)
    server = start_server(url, prefix)
    keys = Keys(prefix)
    try:
        users = [add_user(url, prefix, f"viewer-{i:03d}", "duty_officer", "MK") for i in range(viewers)]
        cookies = [sign_in(server.url, u.name, u.password) for u in users]
        admin = add_user(url, prefix, "soak-admin", "admin", "MK")
        admin_cookies = sign_in(server.url, admin.name, admin.password)
        base_lat, base_err = time_requests(server.url, cookies, 90, 0.05)
        streams = Viewers(server.url, cookies)
        streams.start()
        stop, sent, samples = threading.Event(), [], []
        producer = threading.Thread(target=produce, args=(url, keys, rate, lifetime, stop, sent), daemon=True)
        load_lat: list[float] = []
        load_err: list[str] = []
        sampler = threading.Thread(target=lambda: (r := time_requests(server.url, cookies, 10**9, 1.0, stop),
                                                   load_lat.extend(r[0]), load_err.extend(r[1])), daemon=True)
        started = time.monotonic()
        producer.start()
        sampler.start()
        while (elapsed := time.monotonic() - started) < minutes * 60:
            samples.append((elapsed, rss_mb(server.process.pid), len(sent), held(server.url, admin_cookies)))
            stop.wait(min(sample_s, max(0.0, minutes * 60 - elapsed)))
        stop.set()
        producer.join()
        sampler.join()
        wall = time.monotonic() - started
        deadline = time.monotonic() + 60
        while (missing_stored := not_stored(redis, keys, sent)) and time.monotonic() < deadline:
            time.sleep(1)
        stored = len(sent) - missing_stored
        samples.append((time.monotonic() - started, rss_mb(server.process.pid), len(sent),
                        held(server.url, admin_cookies)))
        owed = {a["id"] for a in sent if a["releasable_to"] in (["ALL"], ["MK"]) and "msg_type" not in a}
        while time.monotonic() < deadline and any(owed - got for got in streams.received):
            time.sleep(0.2)
        missing = sum(len(owed - got) for got in streams.received)
        streams.stop()
        fresh_rss = fresh_server_rss(url, prefix, cookies[0], stored)
    finally:
        stop_server(server)
        delete_prefix(redis, prefix)
        redis.close()
    figures = {
        "viewers": viewers, "minutes": minutes, "rate": rate, "lifetime": lifetime, "horizon": horizon,
        "sent": len(sent), "achieved_rate": len(sent) / wall, "rss_slope": slope(samples),
        "stored": stored, "rss": samples, "fresh_rss": fresh_rss, "api_load_ms": {"p50": pct(load_lat, 50), "p95": pct(load_lat, 95),
                                                          "max": max(load_lat, default=None), "n": len(load_lat)},
        "api_baseline_ms": {"p50": pct(base_lat, 50), "p95": pct(base_lat, 95), "max": max(base_lat, default=None),
                            "n": len(base_lat)},
        "errors": {"api": len(load_err) + len(base_err), "stream_drops": streams.drops,
                   "stream_rebuilds": streams.rebuilds,
                   "stream_failures": len(streams.failures), "events_missing": missing,
                   "not_stored": missing_stored},
        "error_samples": (load_err + base_err + streams.failures)[:5],
    }
    report(figures)
    return figures


def slope(samples: list[tuple]) -> float | None:
    """Least-squares RSS slope (MB per minute) over the second half of the run's samples (None: too few)."""
    late = [(t, mb) for t, mb, *_ in samples if mb is not None and t >= samples[-1][0] / 2]
    if len(late) < 3:
        return None
    mean_t, mean_mb = sum(t for t, _ in late) / len(late), sum(mb for _, mb in late) / len(late)
    spread = sum((t - mean_t) ** 2 for t, _ in late)
    return 60 * sum((t - mean_t) * (mb - mean_mb) for t, mb in late) / spread if spread else None


def report(f: dict) -> None:
    """Print the soak's tables (``soak`` figures)."""
    print_table(f"soak: server RSS over time ({f['viewers']} viewers, {f['rate']:.0f} alerts/s, "
                f"{f['minutes']:g} min; cancelled after {f['lifetime']:g} s, held {f['horizon']:g} s after)",
                ["t (s)", "RSS (MB)", "messages sent", "alerts held"],
                [[f"{t:.0f}", f"{mb:.0f}" if mb else "?", f"{n:,}", "?" if kept is None else f"{kept:,}"]
                 for t, mb, n, kept in f["rss"]])
    rss_slope = f.get("rss_slope")
    print(f"RSS slope over the second half: {'?' if rss_slope is None else f'{rss_slope:+.1f}'} MB/min "
          f"(RSS at the first sample: {f['rss'][0][1] or 0:.0f} MB)")
    if f.get("fresh_rss"):
        print(f"a fresh server on the same {f['stored']:,} alerts: RSS {f['fresh_rss']:.0f} MB "
              f"(the soaked server: {f['rss'][-1][1]:.0f} MB)")
    load, base, err = f["api_load_ms"], f["api_baseline_ms"], f["errors"]
    print_table("soak: API latency and errors", ["measure", "value", "baseline (same run)", "baseline value", "note"], [
        ["API p50 / p95 / max", f"{fmt_ms(load['p50'])} / {fmt_ms(load['p95'])} / {fmt_ms(load['max'])}",
         "same requests, no load", f"{fmt_ms(base['p50'])} / {fmt_ms(base['p95'])} / {fmt_ms(base['max'])}",
         f"{load['n']} / {base['n']} requests"],
        ["ingest rate achieved", f"{f['achieved_rate']:.1f} /s", "asked", f"{f['rate']:.0f} /s",
         f"{f['sent']:,} sent, {f['stored']:,} stored"],
        ["errors", str(sum(err.values())), "expected", "0",
         ", ".join(f"{k} {v}" for k, v in err.items())],
    ])
    for line in f["error_samples"]:
        print("  error:", line)


def main(argv: list[str] | None = None) -> None:
    """The command line (``python -m bench.soak --help``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("CRISIS_BENCH_REDIS_URL")
                        or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--viewers", type=int, default=50, help="signed-in viewers with a live stream (default 50)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load lasts (default 10)")
    parser.add_argument("--rate", type=float, default=100.0, help="alerts per second ingested (default 100)")
    parser.add_argument("--lifetime", type=float, default=60.0,
                        help="seconds after which each alert is cancelled (default 60; 0: never)")
    parser.add_argument("--horizon", type=float, default=60.0,
                        help="the server's CRISIS_MEMORY_HORIZON, seconds (default 60)")
    parser.add_argument("--sample-s", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    parser.add_argument("--per-alert", action="store_true", help="measure one alert's memory and live frame")
    args = parser.parse_args(argv)
    print(f"load average before: {loadavg()}")
    if args.per_alert:
        from bench.per_alert import per_alert
        per_alert(args.redis_url)
        return
    soak(args.redis_url, args.viewers, args.minutes, args.rate, args.sample_s, args.lifetime, args.horizon)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
