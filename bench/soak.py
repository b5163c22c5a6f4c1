"""6. Soak: signed-in viewers with live streams for a long while, ingest at a steady rate.

    python -m bench.soak [--viewers 50] [--minutes 10] [--rate 100] [--redis-url URL]

A ``crisisdash serve`` (``tests.conftest.start_server``, with its ingest
workers) on its own prefix ``bench-<uuid>:soak``; ``viewers`` duty officers
(nation MK) each signed in through the real ``/login`` form (session cookie),
each holding a ``/live/alerts`` stream open (server-sent events, resumed with
``Last-Event-ID`` if it drops) for ``minutes``, while a producer thread XADDs
synthetic alerts (``bench.common.make_alerts``, 90 % releasable to all) to the
inbox at ``rate`` alerts/s in ticks of 100 ms. Meanwhile one API request
a second (``GET /api/v1/alerts?limit=50``, ``/api/v1/summary``,
``/api/v1/me`` in turn, as a rotating viewer) is timed.

Figures (times in ms, memory in MiB printed as MB):

- **server RSS over time** (``VmRSS`` of the server process every ``--sample-s``
  seconds, with the alerts stored so far: the read model keeps every alert in
  memory, so RSS is expected to grow with the alerts, and to be flat per alert);
- **API latency p50/p95/max** under load, beside the **baseline**: the same
  requests, same client, before the viewers connect and the producer starts;
- **errors** (expected 0): non-2xx API answers, live streams that ended or
  failed, alerts a viewer should have received (released to MK) but did not
  by the end, and alerts sent but not stored; plus how far the producer fell
  behind its rate.

Keys are deleted at the end, whatever happens. Not run by the test suite.

One brief run on the 2-CPU development machine, ``--viewers 20 --minutes 1``,
100 alerts/s, Redis on loopback (also in ``bench/README.md``, section 6):

| measure | value | baseline (same run) | baseline value | note |
|---|---:|---|---:|---|
| server RSS at 0 / 10 / 20 / 30 / 40 / 50 / 62 s | 203 / 221 / 235 / 257 / 271 / 288 / 309 MB | — | — | 0 → 6,000 alerts stored: about 17 MB per 1,000 alerts, steady |
| API p50 / p95 / max | 2,151 / 4,438 / 4,603 ms | same requests, no load | 27 / 208 / 466 ms | 19 / 90 requests |
| ingest rate achieved | 97.1 /s | asked | 100 /s | 6,000 sent, 6,000 stored |
| errors | 0 | expected | 0 | API 0, stream drops 0, stream failures 0, events missing 0, not stored 0 |

Read with care: the 1-min load average was 11.9 → 13.7 on 2 CPUs (other
sessions' test suites), so the latency under load says more about the machine
than the server. RSS did not level off within a minute: it grew at a steady
~17 MB per 1,000 alerts, the same per alert throughout (no growth from the 20
open streams themselves), which is more than the read model's alert records
should need; the full 10-minute run (60,000 alerts) is needed to tell a cost
per alert from a leak.
"""
from __future__ import annotations

import argparse
import asyncio
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
                        kind = None
                        async for line in response.aiter_lines():
                            if line.startswith("event: "):
                                kind = line[7:]
                            elif line.startswith("id: "):
                                last_id = line[4:]
                            elif line.startswith("data: ") and kind == "alert":
                                start = line.find('"id": "') + 7
                                self.received[n].add(line[start:line.find('"', start)])
                    if not self._stop.is_set():
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


def produce(url: str, keys: Keys, rate: float, stop: threading.Event, sent: list[dict]) -> None:
    """XADD ``rate`` alerts/s to the inbox in ticks of 100 ms until ``stop``; appends each alert sent to ``sent``."""
    client, rng, places = client_for(url), random.Random(7), load_places()
    per_tick, tick, n = max(1, round(rate / 10)), 0, 0
    started = time.monotonic()
    while not stop.is_set():
        alerts = make_alerts(per_tick, "soak", rng, places, spread_minutes=60, start=n)
        send_to_stream(client, keys, encode(alerts))
        sent.extend(alerts)
        n += per_tick
        tick += 1
        stop.wait(max(0.0, started + tick * 0.1 - time.monotonic()))
    client.close()


def soak(url: str, viewers: int, minutes: float, rate: float, sample_s: float) -> dict:
    """Run the soak (module docstring); returns the figures and prints the tables."""
    from tests.conftest import add_user, start_server, stop_server

    prefix = f"bench-{uuid.uuid4().hex[:8]}:soak"
    redis = client_for(url)
    server = start_server(url, prefix)
    keys = Keys(prefix)
    try:
        users = [add_user(url, prefix, f"viewer-{i:03d}", "duty_officer", "MK") for i in range(viewers)]
        cookies = [sign_in(server.url, u.name, u.password) for u in users]
        base_lat, base_err = time_requests(server.url, cookies, 90, 0.05)
        streams = Viewers(server.url, cookies)
        streams.start()
        stop, sent, samples = threading.Event(), [], []
        producer = threading.Thread(target=produce, args=(url, keys, rate, stop, sent), daemon=True)
        load_lat: list[float] = []
        load_err: list[str] = []
        sampler = threading.Thread(target=lambda: (r := time_requests(server.url, cookies, 10**9, 1.0, stop),
                                                   load_lat.extend(r[0]), load_err.extend(r[1])), daemon=True)
        started = time.monotonic()
        producer.start()
        sampler.start()
        while (elapsed := time.monotonic() - started) < minutes * 60:
            samples.append((elapsed, rss_mb(server.process.pid), redis.xlen(keys.events)))
            stop.wait(min(sample_s, max(0.0, minutes * 60 - elapsed)))
        stop.set()
        producer.join()
        sampler.join()
        wall = time.monotonic() - started
        deadline = time.monotonic() + 60
        while redis.xlen(keys.events) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.2)
        stored = redis.xlen(keys.events)
        samples.append((time.monotonic() - started, rss_mb(server.process.pid), stored))
        owed = {a["id"] for a in sent if a["releasable_to"] in (["ALL"], ["MK"])}
        while time.monotonic() < deadline and any(owed - got for got in streams.received):
            time.sleep(0.2)
        missing = sum(len(owed - got) for got in streams.received)
        streams.stop()
    finally:
        stop_server(server)
        delete_prefix(redis, prefix)
        redis.close()
    figures = {
        "viewers": viewers, "minutes": minutes, "rate": rate, "sent": len(sent), "achieved_rate": len(sent) / wall,
        "stored": stored, "rss": samples, "api_load_ms": {"p50": pct(load_lat, 50), "p95": pct(load_lat, 95),
                                                          "max": max(load_lat, default=None), "n": len(load_lat)},
        "api_baseline_ms": {"p50": pct(base_lat, 50), "p95": pct(base_lat, 95), "max": max(base_lat, default=None),
                            "n": len(base_lat)},
        "errors": {"api": len(load_err) + len(base_err), "stream_drops": streams.drops,
                   "stream_failures": len(streams.failures), "events_missing": missing,
                   "not_stored": max(0, len(sent) - stored)},
        "error_samples": (load_err + base_err + streams.failures)[:5],
    }
    report(figures)
    return figures


def report(f: dict) -> None:
    """Print the soak's tables (``soak`` figures)."""
    first = f["rss"][0][1] or 0.0
    print_table(f"soak: server RSS over time ({f['viewers']} viewers, {f['rate']:.0f} alerts/s, "
                f"{f['minutes']:g} min)", ["t (s)", "RSS (MB)", "alerts stored", "MB per 1,000 alerts since start"],
                [[f"{t:.0f}", f"{mb:.0f}" if mb else "?", f"{n:,}",
                  f"{(mb - first) / (n / 1000):.2f}" if mb and n else "—"] for t, mb, n in f["rss"]])
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
    parser.add_argument("--sample-s", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    args = parser.parse_args(argv)
    print(f"load average before: {loadavg()}")
    soak(args.redis_url, args.viewers, args.minutes, args.rate, args.sample_s)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
