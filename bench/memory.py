"""10. Server memory: the resident set of a real ``crisisdash serve`` holding ``n`` alerts in its read model.

``n`` alerts (synthetic, placed as ingest places them, spread over 30 days, all open) are recorded under a
fresh prefix with ``AlertStore.record_many``; a ``crisisdash serve --no-ingest`` is started on that prefix and,
once its read model holds all ``n`` (``alerts_held`` of ``/api/v1/health``, asked as an admin), its resident
set (``VmRSS`` of ``/proc/<pid>/status``) is read, then again after the alert list and the situation picture
were asked for once (`/api/v1/alerts`, `/api/v1/summary`), then once it has *settled* (from
``HOUSEKEEPING_FROM`` alerts on, after its housekeeping, which hands the heap's free pages back every minute,
ran once more: RSS read every ``SETTLE_EVERY_S``, less for a small record: 1 s per 20,000 alerts, at least 1 s,
until it changes by less than 2 MB over four readings, at most ``SETTLE_MOST_S``); then, settled again, after
one replay seek (`/api/v1/state?at=`): a server reads the replay record (the ``n`` alerts are ``n`` events of
it) only when replay is first used, and forgets it after ``CRISIS_REPLAY_IDLE`` unused
(``alerts.actions.replay``). Baseline, same run: the same server on an empty prefix. Targets (the scale issue,
``target_of``): at most 300 MB per process up to 100,000 alerts, judged on the process that has not replayed
(the read model's memory: held, after the reads, settled), the replay figure printed beside it; above 100,000
(the issue's 1,000,000 stored alerts), at most 1 GB in every reading, the replay seek's included. Figures in
MiB.
"""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx

from alerts.store.accounts import Accounts
from alerts.store.alerts import AlertStore
from alerts.store.keys import Keys
from bench.common import HEADERS, chunks, client_for, delete_prefix, fmt_mb, print_table, wait_for
from bench.map import stored_alerts

TARGET_MB = 300.0
#: Above ``TARGET_UP_TO`` alerts the target is ``TARGET_LARGE_MB``, for every reading (the replay seek's too).
TARGET_UP_TO, TARGET_LARGE_MB = 100_000, 1000.0


def target_of(n: int) -> tuple[float, tuple[str, ...]]:
    """The target (MB) at ``n`` alerts and the readings judged by it (keys of ``_measure``'s result)."""
    if n <= TARGET_UP_TO:
        return TARGET_MB, ("rss_loaded_mb", "rss_after_reads_mb", "rss_settled_mb")
    return TARGET_LARGE_MB, ("rss_loaded_mb", "rss_after_reads_mb", "rss_settled_mb", "rss_replayed_mb")
SETTLE_EVERY_S, SETTLE_MOST_S = 5.0, 600.0


def rss_of_mb(pid: int) -> float:
    """Resident set of process ``pid`` in MiB (Linux ``/proc``)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _measure(url: str, prefix: str, n: int) -> dict:
    """Start ``serve --no-ingest`` on ``prefix`` (holding ``n`` alerts), read its RSS; stop it."""
    from tests.conftest import start_server, stop_server

    accounts = Accounts(client_for(url), Keys(prefix))
    accounts.add_user("bench-admin", "admin", "MK", uuid.uuid4().hex)
    _, token = accounts.create_token("bench-admin")
    headers = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    server = start_server(url, prefix, "--no-ingest", timeout=600)  # (it answers once its read model is loaded)
    try:
        def held() -> bool:
            answer = httpx.get(f"{server.url}/api/v1/health", headers=headers, timeout=30).json()
            return answer.get("alerts_held") == n

        wait_for(held, 300, f"the read model to hold {n} alerts")
        loaded_s = time.perf_counter() - t0
        loaded = rss_of_mb(server.process.pid)
        for path in ("/alerts?limit=200", "/summary"):
            httpx.get(f"{server.url}/api/v1{path}", headers=headers, timeout=60).raise_for_status()
        after_reads = rss_of_mb(server.process.pid)
        every = min(SETTLE_EVERY_S, max(1.0, n / 20_000))  # a small record is read at once: no need to wait 5 s
        settled = _settled(server.process.pid, after_reads, every, n >= HOUSEKEEPING_FROM)
        settled_s = time.perf_counter() - t0
        t2 = time.perf_counter()
        httpx.get(f"{server.url}/api/v1/state", params={"at": _utc_now()}, headers=headers,
                  timeout=SETTLE_MOST_S).raise_for_status()
        seek_s = time.perf_counter() - t2
        replayed = _settled(server.process.pid, rss_of_mb(server.process.pid), every, n >= HOUSEKEEPING_FROM)
        return {"rss_loaded_mb": loaded, "rss_after_reads_mb": after_reads, "rss_settled_mb": settled,
                "settled_s": settled_s, "loaded_s": loaded_s, "rss_replayed_mb": replayed, "first_seek_s": seek_s}
    finally:
        stop_server(server)


#: From this many alerts on, the settled readings wait for the server's housekeeping to run once more (below
#: it, what the housekeeping hands back is a few MB, and a small run need not take minutes).
HOUSEKEEPING_FROM = 10_000


def _settled(pid: int, first: float, every: float, housekeeping: bool) -> float:
    """RSS of ``pid`` once four readings ``every`` seconds apart agree within 2 MB (at most ``SETTLE_MOST_S``);
    with ``housekeeping``, the second of them taken after the server's housekeeping ran once more (it hands the
    heap's free pages back every ``dashboard.app.TRIM_EVERY`` seconds)."""
    from dashboard.app import TRIM_EVERY

    if housekeeping:
        time.sleep(TRIM_EVERY + 1)
    readings, start = [first, rss_of_mb(pid)], time.perf_counter()
    while time.perf_counter() - start < SETTLE_MOST_S and (len(readings) < 4
                                                           or max(readings[-4:]) - min(readings[-4:]) >= 2):
        time.sleep(every)
        readings.append(rss_of_mb(pid))
    return readings[-1]


def _utc_now() -> str:
    return datetime.now(UTC).isoformat()


def bench_memory(url: str, prefix: str, n: int, places) -> dict:
    """The section's figures (see the module docstring)."""
    client = client_for(url)
    full, empty = f"{prefix}:memory", f"{prefix}:memory-empty"
    t0 = time.perf_counter()
    store = AlertStore(client, Keys(full))
    for batch in chunks(stored_alerts(n, places), 1_000):
        store.record_many(batch)
    setup_s = time.perf_counter() - t0
    try:
        baseline = _measure(url, empty, 0)
        measured = _measure(url, full, n)
    finally:
        delete_prefix(client, full)
        delete_prefix(client, empty)
    target, judged = target_of(n)
    return {"n": n, "target_mb": target, "setup_s": setup_s, "empty": baseline, "full": measured,
            "judged": judged, "meets_target": max(measured[k] for k in judged) <= target}


def report_memory(r: dict) -> None:
    """Print section 10."""
    full, empty = r["full"], r["empty"]
    verdict = "meets" if r["meets_target"] else "ABOVE"
    rows = [
        [f"serve RSS, {r['n']:,} alerts held", fmt_mb(full["rss_loaded_mb"]), "serve RSS, no alerts",
         fmt_mb(empty["rss_loaded_mb"]), f"read model loaded in {full['loaded_s']:.1f} s"],
        [f"serve RSS, {r['n']:,} alerts, after list + summary", fmt_mb(full["rss_after_reads_mb"]),
         "serve RSS, no alerts, same reads", fmt_mb(empty["rss_after_reads_mb"]),
         ""],
        [f"serve RSS, {r['n']:,} alerts, settled", fmt_mb(full["rss_settled_mb"]),
         "serve RSS, no alerts, settled", fmt_mb(empty["rss_settled_mb"]),
         f"after {full['settled_s']:.0f} s; {verdict} target <= {r['target_mb']:,.0f} MB "
         f"({'every reading' if 'rss_replayed_mb' in r['judged'] else 'the three readings without replay'})"],
        [f"serve RSS, {r['n']:,} alerts, after a replay seek (record read)", fmt_mb(full["rss_replayed_mb"]),
         "serve RSS, no alerts, same seek", fmt_mb(empty["rss_replayed_mb"]),
         f"first seek {full['first_seek_s']:.1f} s; forgotten after CRISIS_REPLAY_IDLE unused"],
    ]
    print_table(f"10. Server memory ({r['n']:,} alerts recorded in {r['setup_s']:.1f} s)", HEADERS, rows)
