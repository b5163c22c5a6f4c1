"""7. The CoT listener: CoT events/s from a TCP client through the listener, to stored alerts and to a live client.

One TCP client sends ``n`` ATAK position reports (XML, about 700 bytes each) as fast as it can to a
``CotListener`` (``alerts.ingest.tak.listener``) on loopback, in a thread of this process; the figure is
events per second from the first byte sent until the inbox stream holds all ``n``. A paced run then offers
1,000 events/s for ``paced`` events and counts what the inbox holds (target: 0 lost). Baselines, same run:
a raw TCP server that only reads and discards the same bytes (the socket's ceiling), and the direct
``XADD`` of the same events in pipelined batches of 500 (our Redis-stream path with no network listener).

Then ``n // 4`` ATAK 911 alerts (each its own device) go through the listener and the ingest worker the
server runs (``bench.ingest.alert_worker``, in a thread) to stored alerts: events/s from the first byte
sent until the events stream holds them all, and how many were dead-lettered (target: none); baseline:
the same alerts put on the inbox stream directly (tagged with the feed, as the listener writes them).

Last, ``n // 4`` ATAK 911 alerts to an SSE client: a real ``crisisdash serve`` (subprocess) runs the
listener (``CRISIS_COT_LISTEN``, feed ``rs-tak`` of ``tests/data/feeds.toml``) and its ingest, and a plain
HTTP client of an RS duty officer (API token) reads ``/live/alerts``; events/s from the first byte sent
until that client has received every one of them (``bench.latency.SseListener``); baseline: the same
alerts put on that server's inbox stream. Once more with ingest scaled out: ``serve --no-ingest`` (the
listener, the read model, live push) and ``SCALE_OUT`` ``crisisdash ingest`` processes. Each of these runs
also times until the server's events stream holds every alert (stored), so the scaled-out run shows what the
ingest processes reach apart from the live push.
Target for each rate (the TAK issue): at least 2,000 events/s.

Every listener here runs with its byte budgets raised to ``BENCH_BUDGET`` (``Limits``,
``CRISIS_COT_ADDRESS_RATE``/``CRISIS_COT_ENDPOINT_RATE``): the figures are what the path can carry. The
defaults (4 MiB/s per client address) let one client send about 6,000 of these position reports a second.
"""
from __future__ import annotations

import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from alerts.core.events import ALERT_CREATED
from alerts.ingest.tak.inbox import InboxWriter
from alerts.ingest.tak.connection import Limits
from alerts.ingest.tak.listener import CotListener, Endpoints
from alerts.store.keys import Keys
from alerts.store.producer import send_from_feed
from bench.common import ROOT, chunks, client_for, fmt_rate, print_table, wait_for

TARGET_PER_S = 2_000
#: The byte budgets of the listeners measured (bytes per second, per address and per endpoint).
BENCH_BUDGET = 1 << 30
BENCH_LIMITS = Limits(address_bytes_per_second=BENCH_BUDGET, endpoint_bytes_per_second=BENCH_BUDGET)
PACED_PER_S = 1_000
#: ``crisisdash ingest`` processes beside ``serve --no-ingest`` in the scaled-out SSE figure.
SCALE_OUT = 2


def events(n: int) -> list[bytes]:
    """``n`` position reports of one sample, each with its own uid."""
    sample = (ROOT / "tests" / "data" / "cot" / "fts_a-f-G-U-C.xml").read_bytes().strip()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    sample = sample.replace(b"2020-02-08T18:10:49.210Z", stamp.encode())
    return [sample.replace(b"uid='ANDROID-R52JB0CDC4E'", f"uid='BENCH-{i}'".encode()) for i in range(n)]


def emergencies(n: int, tag: str = "BENCH") -> list[bytes]:
    """``n`` ATAK 911 alerts (case 01a) dated now, each from its own device (uid ``<tag>-<i>-9-1-1``)."""
    sample = (ROOT / "tests" / "data" / "cases" / "01a_cot-911-uid-reuse.xml").read_text(encoding="utf-8")
    now = datetime.now(UTC)
    sample = sample.replace("2026-11-29T13:40:00.361Z", now.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    sample = sample.replace("2026-11-29T13:55:00.000Z", (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    return [sample.replace("ANDROID-0a1b2c3d4e5f6789", f"{tag}-{i}").encode() for i in range(n)]


def to_stored_alerts(client, url: str, prefix: str, n: int) -> dict:
    """Events/s from a TCP client through the listener and the ingest worker to stored alerts; and, as the
    baseline, the same alerts put on the inbox stream directly (tagged with the feed, as the listener
    writes them) and handled by the same worker: our Redis-stream path without the listener."""
    data = emergencies(n)
    rate, dead = _stored(client, url, f"{prefix}:tak-ingest", data, through_listener=True)
    base_rate, _ = _stored(client, url, f"{prefix}:tak-ingest-base", data, through_listener=False)
    return {"alerts_n": n, "alerts_per_s": rate, "alerts_dead": dead, "alerts_stream_per_s": base_rate}


def _stored(client, url: str, prefix: str, data: list[bytes], through_listener: bool) -> tuple[float, int]:
    from alerts.core.geography import RegionIndex
    from bench.common import ASSETS
    from bench.ingest import alert_worker

    keys, n = Keys(prefix), len(data)
    worker = alert_worker(client_for(url), keys, RegionIndex.from_assets(ASSETS), "bench-tak")
    listener = CotListener(InboxWriter(client, keys, "bench"), Endpoints(tcp=("127.0.0.1", 0)), BENCH_LIMITS)
    stop = threading.Event()
    threads = [threading.Thread(target=t.run, args=(stop,), daemon=True)
               for t in ((listener, worker) if through_listener else (worker,))]
    for thread in threads:
        thread.start()
    try:
        if through_listener:
            wait_for(listener.ready.is_set, 10, "the listener")
        t0 = time.perf_counter()
        if through_listener:
            _send(listener.ports["tcp"], data)
        else:
            for batch in chunks(data, 500):
                send_from_feed(client, keys, batch, "bench")
        wait_for(lambda: client.xlen(keys.events) + client.xlen(keys.dead_letters) >= n, 300, f"{n} alerts")
        seconds = time.perf_counter() - t0
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    return n / seconds, client.xlen(keys.dead_letters)


def to_sse_client(url: str, prefix: str, n: int, ingest_processes: int = 0) -> dict:
    """Events/s from a TCP client through the listener of a real ``serve`` to an SSE client of ``/live/alerts``.

    ``ingest_processes`` 0: the serve process ingests (its own workers, as the README's one command runs it).
    Above 0: ``serve --no-ingest`` (listener, read model, live push) and that many ``crisisdash ingest``
    processes, as a deployment scales ingest out (docs/ha.md). Keys ``sse*`` (or ``sse<k>*``)."""
    import os
    import subprocess
    import sys

    from alerts.store.accounts import Accounts
    from bench.latency import SseListener
    from tests.conftest import free_port, start_server, stop_server

    run_prefix = f"{prefix}:tak-sse{ingest_processes or ''}"
    port = free_port()
    env = {"CRISIS_FEEDS": str(ROOT / "tests" / "data" / "feeds.toml"),
           "CRISIS_COT_LISTEN": f"tcp=127.0.0.1:{port}", "CRISIS_COT_FEED": "rs-tak",
           "CRISIS_COT_ADDRESS_RATE": str(BENCH_BUDGET), "CRISIS_COT_ENDPOINT_RATE": str(BENCH_BUDGET)}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        server = start_server(url, run_prefix, *(["--no-ingest"] if ingest_processes else []))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    workers = [subprocess.Popen([sys.executable, "-m", "dashboard.cli", "ingest", "--redis-url", url,
                                 "--prefix", run_prefix], cwd=ROOT,
                                env={**os.environ, **env, "CRISIS_CONSUMER": f"bench-ingest-{k}"},  # one each
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for k in range(ingest_processes)]
    sse = None
    try:
        accounts = Accounts(client_for(url), Keys(run_prefix))
        accounts.add_user("bench-rs", "duty_officer", "RS", uuid.uuid4().hex)
        _, token = accounts.create_token("bench-rs")
        sse = SseListener(server.url + "/live/alerts", {})
        sse.client.headers["Authorization"] = f"Bearer {token}"
        sse.start()
        sse.connected.wait(10)
        if workers:  # every worker has joined the ingest group (a worker that starts late adds nothing)
            wait_for(lambda: _consumers(url, run_prefix) >= ingest_processes or
                     any(w.poll() is not None for w in workers), 180, "the ingest processes")
            if any(w.poll() is not None for w in workers):
                raise RuntimeError("a crisisdash ingest process exited at start")
        created = _Created(client_for(url), Keys(run_prefix).events)
        seconds, arrived, stored_s = _to_sse(sse, n, "BENCH", lambda data: _send(port, data), created)
        if not workers:  # the baseline: the same alerts put on the inbox stream as the listener writes them
            inbox = client_for(url)
            base_s, base_arrived, _ = _to_sse(sse, n, "STREAM", lambda data: [
                send_from_feed(inbox, Keys(run_prefix), batch, "rs-tak") for batch in chunks(data, 500)], created)
    finally:
        if sse is not None:
            sse.stop.set()  # the server ending the stream is expected now, not an error
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        stop_server(server)
        if sse is not None:
            sse.close()
    key = f"sse{ingest_processes or ''}"
    return {f"{key}_n": n, f"{key}_per_s": arrived / seconds, f"{key}_missing": n - arrived,
            f"{key}_stored_per_s": n / stored_s if stored_s else 0.0,
            f"{key}_status": sse.status, f"{key}_error": sse.error,
            **({} if workers else {f"{key}_stream_per_s": base_arrived / base_s})}


class _Created:
    """Counts the alerts created on an events stream (``alert.created``), reading on from where it last was."""

    def __init__(self, client, stream: str):
        self.client, self.stream, self.cursor, self.count = client, stream, "0-0", 0

    def read(self) -> int:
        while entries := self.client.xrange(self.stream, min=f"({self.cursor}", count=5000):
            self.cursor = entries[-1][0].decode()
            self.count += sum(1 for _, fields in entries if fields.get(b"kind") == ALERT_CREATED.encode())
        return self.count


def _to_sse(sse, n: int, tag: str, send, created: _Created) -> tuple[float, int, float | None]:
    """Seconds from ``send(n alerts tagged tag)`` until ``sse`` has received them all, how many arrived, and
    seconds until ``created`` counted ``n`` more alerts stored (None if it did not)."""
    data = emergencies(n, tag)
    wanted = {f"{tag}-{i}-9-1-1" for i in range(n)}
    goal, stored_at = created.read() + n, []
    t0 = time.perf_counter()

    def done() -> bool:
        if not stored_at and created.read() >= goal:
            stored_at.append(time.perf_counter() - t0)
        return wanted <= dict(sse.received).keys()

    send(data)
    try:
        wait_for(done, 300, f"{n} alerts at the SSE client")
    except TimeoutError:
        pass  # reported as missing
    seconds = time.perf_counter() - t0
    if not stored_at and created.read() >= goal:
        stored_at.append(seconds)
    return seconds, len(wanted & dict(sse.received).keys()), stored_at[0] if stored_at else None


def _consumers(url: str, prefix: str) -> int:
    """How many consumers the alert inbox's ingest group has (0 before the group exists)."""
    import redis

    keys = Keys(prefix)
    try:
        groups = client_for(url).xinfo_groups(keys.inbox)
    except redis.ResponseError:
        return 0
    return sum(g["consumers"] for g in groups if g["name"] in (keys.ingest_group, keys.ingest_group.encode()))


def _send(port: int, data: list[bytes], per_second: float | None = None) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        if per_second is None:
            sock.sendall(b"".join(data))
            return
        start = time.perf_counter()
        for i, event in enumerate(data):
            delay = start + i / per_second - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sock.sendall(event)


def raw_tcp_baseline(data: list[bytes]) -> float:
    """Seconds to push ``data`` through a loopback socket to a server that reads and discards it."""
    server = socket.create_server(("127.0.0.1", 0))
    total = sum(len(d) for d in data)

    def sink() -> None:
        conn, _ = server.accept()
        with conn:
            received = 0
            while received < total:
                received += len(conn.recv(65_536)) or total
    reader = threading.Thread(target=sink)
    reader.start()
    t0 = time.perf_counter()
    _send(server.getsockname()[1], data)
    reader.join()
    elapsed = time.perf_counter() - t0
    server.close()
    return elapsed


def bench_tak(url: str, prefix: str, n: int, paced: int) -> dict:
    """Run the listener, baselines and the paced run; returns the figures (events/s, lost)."""
    client = client_for(url, timeout=10)
    data = events(n)
    raw_s = raw_tcp_baseline(data)

    keys = Keys(f"{prefix}:tak-xadd")
    t0 = time.perf_counter()
    for batch in chunks(data, 500):
        send_from_feed(client, keys, batch, "bench")
    xadd_s = time.perf_counter() - t0

    keys = Keys(f"{prefix}:tak")
    listener = CotListener(InboxWriter(client, keys, "bench"), Endpoints(tcp=("127.0.0.1", 0)), BENCH_LIMITS)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(listener.ready.is_set, 10, "the listener")
        port = listener.ports["tcp"]
        t0 = time.perf_counter()
        _send(port, data)
        wait_for(lambda: client.xlen(keys.inbox) >= n, 120, f"{n} events in the inbox")
        listener_s = time.perf_counter() - t0
        offered = events(paced)
        _send(port, offered, PACED_PER_S)
        try:
            wait_for(lambda: client.xlen(keys.inbox) >= n + paced, 30, "the paced events")
        except TimeoutError:
            pass  # reported as lost below
        paced_stored = client.xlen(keys.inbox) - n
    finally:
        stop.set()
        thread.join(timeout=10)
    stored = to_stored_alerts(client, url, prefix, max(n // 4, 100))
    stored.update(to_sse_client(url, prefix, max(n // 4, 100)))
    stored.update(to_sse_client(url, prefix, max(n // 4, 100), ingest_processes=SCALE_OUT))
    return {**stored, "n": n, "bytes": sum(len(d) for d in data), "listener_per_s": n / listener_s,
            "raw_tcp_per_s": n / raw_s, "xadd_per_s": n / xadd_s, "paced_offered": paced,
            "paced_per_s": PACED_PER_S, "paced_lost": paced - paced_stored, "target_per_s": TARGET_PER_S,
            "counters": vars(listener.counters)}


def report_tak(result: dict) -> None:
    """Print the listener's rate beside the raw socket and the direct XADD."""
    rate = result["listener_per_s"]
    rows = [
        [f"{result['n']:,} CoT events over TCP -> listener -> inbox stream", fmt_rate(rate),
         f"raw TCP read-and-discard {fmt_rate(result['raw_tcp_per_s'])}",
         "at or over target" if rate >= result["target_per_s"] else f"UNDER {result['target_per_s']:,} /s target"],
        ["same events, direct pipelined XADD (no listener)", fmt_rate(result["xadd_per_s"]), "-", ""],
        [f"{result['paced_offered']:,} events offered at {result['paced_per_s']:,} /s", f"{result['paced_lost']} lost",
         "-", "ok" if result["paced_lost"] == 0 else "LOST EVENTS"],
        [f"{result['alerts_n']:,} ATAK 911 alerts over TCP -> listener -> ingest -> stored",
         fmt_rate(result["alerts_per_s"]), f"inbox stream -> ingest -> stored {fmt_rate(result['alerts_stream_per_s'])}",
         _verdict(result["alerts_per_s"], result["target_per_s"])
         + ("" if result["alerts_dead"] == 0 else f"; {result['alerts_dead']} DEAD-LETTERED")],
    ]
    for key, what in (("sse", "serve (listener, ingest)"),
                      (f"sse{SCALE_OUT}", f"serve --no-ingest (listener) + {SCALE_OUT} ingest processes")):
        if f"{key}_n" not in result:
            continue
        rows.append([f"{result[f'{key}_n']:,} ATAK 911 alerts over TCP -> {what} -> SSE client",
                     fmt_rate(result[f"{key}_per_s"]),
                     f"inbox stream -> serve -> SSE client {fmt_rate(result[f'{key}_stream_per_s'])}"
                     if f"{key}_stream_per_s" in result else "-",
                     _verdict(result[f"{key}_per_s"], result["target_per_s"])
                     + ("" if result[f"{key}_missing"] == 0 else
                        f"; {result[f'{key}_missing']} MISSING (HTTP {result[f'{key}_status']}, {result[f'{key}_error']})")])
        rows.append(["  the same run, until stored (the events stream holds them)",
                     fmt_rate(result[f"{key}_stored_per_s"]), "-",
                     _verdict(result[f"{key}_stored_per_s"], result["target_per_s"])])
    print_table("7. CoT listener (TCP, XML)", ["figure", "value", "baseline (same run)", "verdict"], rows)


def _verdict(rate: float, target: float) -> str:
    return f"at or over {target:,} /s target" if rate >= target else f"UNDER {target:,} /s target"
