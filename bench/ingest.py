"""1. Ingest throughput: alerts per second from the inbox stream to stored records.

N synthetic JSON alerts are sent to the inbox stream with
``alerts.store.producer.send_to_stream`` and drained by one
``alerts.ingest.workers.StreamIngest`` driving an
``alerts.ingest.alerts.AlertPipeline`` (decode, place, record, dead-letter),
the worker the server runs. Printed beside raw Redis baselines of the same
payloads in the same run: pipelined ``XADD`` for the producer, ``XREAD`` +
``json.loads`` for the worker. Then each pipeline stage alone (µs per alert,
one core), optionally a scale-out run with several worker processes and a
cProfile of the drain. Targets (one worker process): >= 15,000 alerts/s, and
at least a quarter of the raw ``XREAD`` + ``json.loads`` rate of the same
payloads in the same run (``INGEST_BASELINE_RATIO``: the machine's speed and
load show in both, so the ratio still says something on a busy machine).
"""
from __future__ import annotations

import cProfile
import gc
import json
import random
import time
import uuid
from datetime import UTC, datetime

import numpy as np

from alerts.core.geography import RegionIndex
from alerts.ingest.alerts import AlertPipeline
from alerts.ingest.workers import StreamIngest
from alerts.store.alerts import AlertStore
from alerts.store.dead_letters import DeadLetters
from alerts.store.inbox import StreamInbox
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from bench.common import (
    ASSETS,
    HEADERS,
    cap_zigzag_payload,
    chunks,
    client_for,
    delete_prefix,
    encode,
    fmt_mb,
    fmt_ms,
    fmt_rate,
    make_alerts,
    median_time,
    pct,
    print_table,
    rss_now_mb,
    rss_peak_mb,
)
from bench.profiling import print_profile, profile_rows

INGEST_TARGET_PER_S = 15_000  # one worker process
#: One worker's drain rate over the raw XREAD + json.loads rate of the same payloads, same run: at least this.
INGEST_BASELINE_RATIO = 0.25
PRODUCER_CHUNK = 1_000  # payloads per send_to_stream call
INGEST_BATCH = 500  # StreamIngest's default batch; the raw baselines read the same batch size


def alert_worker(client, keys: Keys, regions: RegionIndex | None, consumer: str) -> StreamIngest:
    """The stream worker the server runs for alerts (without checklists): an ``AlertPipeline`` on
    ``keys``' store and dead letters, reading ``keys.inbox`` as ``consumer`` of the ingest group."""
    pipeline = AlertPipeline(AlertStore(client, keys), regions, DeadLetters(client, keys.dead_letters))  # type: ignore[arg-type]
    inbox = StreamInbox(client, keys.inbox, keys.ingest_group, consumer)
    return StreamIngest(pipeline, inbox, batch=INGEST_BATCH, block_ms=200)


def fill_inbox(client, keys: Keys, payloads: list[bytes]) -> None:
    """Send ``payloads`` to the inbox stream with the producer API, ``PRODUCER_CHUNK`` per call."""
    for chunk in chunks(payloads, PRODUCER_CHUNK):
        send_to_stream(client, keys, chunk)


def drain(ingest: StreamIngest, expected: int, timeout_s: float) -> tuple[int, list[float], float]:
    """Run ``run_once`` until ``expected`` entries were handled; returns (handled, batch ms, seconds)."""
    handled, batch_ms = 0, []
    start = time.perf_counter()
    deadline = start + timeout_s
    while handled < expected:
        t0 = time.perf_counter()
        got = ingest.run_once(block_ms=200)
        if got:
            batch_ms.append((time.perf_counter() - t0) * 1000)
            handled += got
        elif time.perf_counter() > deadline:
            break
    return handled, batch_ms, time.perf_counter() - start


def raw_baselines(client, key: str, payloads: list[bytes]) -> dict:
    """The plainest Redis work on the same payloads: pipelined ``XADD`` (no MAXLEN), then ``XREAD`` +
    ``json.loads`` in batches of ``INGEST_BATCH``. Rates per second, batch times in ms."""
    n = len(payloads)
    out: dict = {}
    start = time.perf_counter()
    for chunk in chunks(payloads, PRODUCER_CHUNK):
        pipe = client.pipeline(transaction=False)
        for payload in chunk:
            pipe.xadd(key, {"payload": payload})
        pipe.execute()
    out["raw_xadd_per_s"] = n / (time.perf_counter() - start)

    last, got, raw_batches = "0-0", 0, []
    start = time.perf_counter()
    while got < n:
        t0 = time.perf_counter()
        reply = client.xread({key: last}, count=INGEST_BATCH)
        entries = reply[0][1] if reply else []
        if not entries:
            break
        for _eid, fields in entries:
            json.loads(fields[b"payload"])
        last = entries[-1][0]
        got += len(entries)
        raw_batches.append((time.perf_counter() - t0) * 1000)
    out["raw_xread_loads_per_s"] = got / (time.perf_counter() - start)
    out["raw_batch_p50_ms"], out["raw_batch_p95_ms"] = pct(raw_batches, 50), pct(raw_batches, 95)
    client.delete(key)
    return out


def stage_costs(client, prefix: str, payloads: list[bytes], regions: RegionIndex) -> dict:
    """Each pipeline step alone, in this process, on all payloads: seconds per step (no baseline;
    ``Alert.model_validate_json`` is printed as a reference). Only ``record_many`` touches Redis."""
    from alerts.core.feeds import FeedRegistry
    from alerts.core.markings import Classifications
    from alerts.core.model import Alert
    from alerts.core.routing import route
    from alerts.formats.decode import decode_alert
    from alerts.ingest.alerts import stored_alert

    stages = {}
    start = time.perf_counter()
    decoded = [decode_alert(p) for p in payloads]
    stages["decode_alert (json + pydantic)"] = time.perf_counter() - start
    start = time.perf_counter()
    placements, points = [], [a.point() for a in decoded]
    for batch in chunks(points, INGEST_BATCH):
        placements += regions.place_points(np.array([p[0] for p in batch]), np.array([p[1] for p in batch]))
    stages["RegionIndex.place_points (batches of 500)"] = time.perf_counter() - start
    now = datetime.now(UTC)
    feeds, scheme = FeedRegistry([]), Classifications()
    stored = [stored_alert(a, p, now, point, route(a, feeds, scheme))
              for a, p, point in zip(decoded, placements, points)]
    start = time.perf_counter()
    for s in stored:
        s.model_dump_json()
    stages["StoredAlert.model_dump_json"] = time.perf_counter() - start
    stage_store = AlertStore(client, Keys(f"{prefix}:stage"))
    start = time.perf_counter()
    for batch in chunks(stored, INGEST_BATCH):
        stage_store.record_many(batch)
    stages["AlertStore.record_many (JSON + Redis, 500/call)"] = time.perf_counter() - start
    delete_prefix(client, stage_store.keys.prefix)
    start = time.perf_counter()
    for raw in payloads:
        Alert.model_validate_json(raw)
    stages["(reference) Alert.model_validate_json"] = time.perf_counter() - start
    return stages


def worst_area_placement(regions: RegionIndex, repeats: int = 3) -> dict:
    """Placement of the costliest areas under the size limit (ms, median of ``repeats``), beside one point.

    The worst case is a self-intersecting zigzag across the region (4,000
    vertices, the case that held the lock 48 s before the geometry budget,
    and as many vertices as fit in the 1 MiB payload limit): decoding with the
    area's checks, the budget (``alerts.core.shapes.bounded``) and
    ``RegionIndex.place_area``. The same for CAP: two zigzag ``<polygon>``
    elements and a few circles in one ``<area>``, as many vertices as fit in
    1 MiB (87 s to 7 min before the CAP pieces were counted and merged within
    the budget, ``alerts.formats.cap.geometry``). The baseline is
    ``place_points`` for one point.
    """
    from alerts.core.shapes import bounded
    from alerts.formats.decode import decode_alert

    def zigzag(vertices: int) -> bytes:
        ring = [[round(14 + 12 * i / vertices, 6), 40 + 8 * (i % 2)] for i in range(vertices)] + [[14, 40]]
        alert = {"id": "worst", "type": "natural_disaster", "severity": "low", "title": "zigzag", "source": "RS",
                 "reported_at": "2026-01-01T00:00:00Z", "area": {"type": "Polygon", "coordinates": [ring]}}
        return json.dumps(alert, separators=(",", ":")).encode()

    def place(raw: bytes) -> None:
        geometry, approximate = bounded(decode_alert(raw).area.shape())
        regions.place_area(geometry, approximate)

    largest = 4_000
    while len(zigzag(largest * 2)) < 1_048_576:
        largest *= 2
    while len(zigzag(largest + 5_000)) < 1_048_576:
        largest += 5_000
    cap_largest = 4_000
    while len(cap_zigzag_payload(cap_largest + 4_000)) < 1_048_576:
        cap_largest += 4_000
    out = {}
    for label, vertices, build in (("4000", 4_000, zigzag), ("max", largest, zigzag),
                                   ("cap", cap_largest, cap_zigzag_payload)):
        raw = build(vertices)
        out[f"area_{label}_vertices"], out[f"area_{label}_bytes"] = vertices, len(raw)
        out[f"area_{label}_ms"] = median_time(lambda raw=raw: place(raw), repeats)[0]
    out["point_ms"] = median_time(lambda: regions.place_points(np.array([20.46]), np.array([44.82])), repeats)[0]
    return out


def bench_ingest(url: str, prefix: str, n: int, places, force_profile: bool, no_profile: bool,
                 workers: int = 2) -> dict:
    """Ingest throughput of ``n`` alerts (alerts/s, batch ms, MiB) beside raw ``XREAD`` + ``json.loads``
    and raw pipelined ``XADD``; stage costs (µs/alert), scale-out with ``workers`` processes, and a
    cProfile of the drain when below either target (or forced)."""
    rng = random.Random(1)
    run = uuid.uuid4().hex[:8]
    payloads = encode(make_alerts(n, f"ing-{run}", rng, places))
    client = client_for(url)
    keys = Keys(f"{prefix}:ingest")
    out: dict = {"n": n, "batch": INGEST_BATCH, "producer_chunk": PRODUCER_CHUNK,
                 "payload_bytes_mean": round(sum(map(len, payloads)) / n, 1)}
    out.update(raw_baselines(client, f"{prefix}:baseline:stream", payloads))

    # The producer API, as a producer would use it (pipelined XADD with approximate MAXLEN).
    start = time.perf_counter()
    fill_inbox(client, keys, payloads)
    out["producer_send_to_stream_per_s"] = n / (time.perf_counter() - start)

    # The worker.
    start = time.perf_counter()
    regions = RegionIndex.from_assets(ASSETS)
    out["region_index_load_ms"] = (time.perf_counter() - start) * 1000
    gc.collect()
    out["rss_before_mb"] = rss_now_mb()
    ingest = alert_worker(client_for(url), keys, regions, "bench")
    ingest.ensure_group()
    gc.freeze()  # as `crisisdash ingest` does after start-up (dashboard.runtime): collections skip what it made
    try:
        handled, batch_ms, seconds = drain(ingest, n, timeout_s=max(60.0, n / 500))
    finally:
        gc.unfreeze()
    out["handled"] = handled
    out["ingest_per_s"] = handled / seconds
    out["ingest_seconds"] = seconds
    out["batch_p50_ms"], out["batch_p95_ms"] = pct(batch_ms, 50), pct(batch_ms, 95)
    out["batch_max_ms"] = max(batch_ms) if batch_ms else None
    out["stored"] = client.xlen(keys.events)
    out["dead_letters"] = client.xlen(keys.dead_letters) if client.exists(keys.dead_letters) else 0
    out["pending"] = ingest.inbox.pending_count()
    out["rss_peak_mb"] = rss_peak_mb()
    out["meets_target"] = out["ingest_per_s"] >= INGEST_TARGET_PER_S
    out["baseline_ratio"] = out["ingest_per_s"] / out["raw_xread_loads_per_s"]
    out["meets_ratio"] = out["baseline_ratio"] >= INGEST_BASELINE_RATIO
    delete_prefix(client, keys.prefix)

    # Stage costs in this process, no Redis: what one core spends per alert on each step.
    stages = stage_costs(client, prefix, payloads, regions)
    out["stages_per_s"] = {name: n / s for name, s in stages.items()}
    out["stages_us_per_alert"] = {name: s / n * 1e6 for name, s in stages.items()}
    out["worst_area"] = worst_area_placement(regions)

    if workers > 1:
        out["scale_out"] = scale_out(url, f"{prefix}:scale", payloads, workers)

    if force_profile or (not no_profile and not (out["meets_target"] and out["meets_ratio"])):
        out["profile"] = profile_ingest(url, f"{prefix}:profile", payloads[: min(n, 10_000)], regions)
    return out


def _worker_drain(url: str, prefix: str, consumer: str, ready, go, results) -> None:
    """One ingest worker process of the scale-out run (a consumer of the same group)."""
    ingest = alert_worker(client_for(url), Keys(prefix), RegionIndex.from_assets(ASSETS), consumer)
    gc.collect()
    gc.freeze()  # as `crisisdash ingest` does after start-up
    ready.put(consumer)
    go.wait()
    start = last = time.time()
    handled = 0
    while True:
        got = ingest.run_once(block_ms=200)
        if not got:
            break  # the stream was filled before the start: empty means drained
        handled += got
        last = time.time()
    results.put({"consumer": consumer, "handled": handled, "start": start, "end": last})


def scale_out(url: str, prefix: str, payloads: list[bytes], workers: int) -> dict:
    """Drain the same payloads with ``workers`` processes in one consumer group: alerts/s from the
    first worker's start to the last one's last batch (printed beside the single worker)."""
    import multiprocessing

    client = client_for(url)
    keys = Keys(prefix)
    fill_inbox(client, keys, payloads)
    StreamInbox(client, keys.inbox, keys.ingest_group, "setup").ensure_group()
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_worker_drain, args=(url, prefix, f"bench-{i}", ready, go, results), daemon=True)
             for i in range(workers)]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=60)
        go.set()
        done = [results.get(timeout=max(120.0, len(payloads) / 200)) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
    handled = sum(d["handled"] for d in done)
    seconds = max(d["end"] for d in done) - min(d["start"] for d in done)
    stored = client.xlen(keys.events)
    delete_prefix(client, prefix)
    return {"workers": workers, "handled": handled, "stored": stored, "per_s": handled / seconds if seconds else None,
            "per_worker": [d["handled"] for d in done]}


def profile_ingest(url: str, prefix: str, payloads: list[bytes], regions: RegionIndex) -> dict:
    """The drain of ``payloads`` again under cProfile: alerts/s under the profiler, top functions by
    own time and the project's functions by cumulative time (no baseline)."""
    client = client_for(url)
    keys = Keys(prefix)
    fill_inbox(client, keys, payloads)
    ingest = alert_worker(client, keys, regions, "bench")
    ingest.ensure_group()
    profile = cProfile.Profile()
    profile.enable()
    handled, _batches, seconds = drain(ingest, len(payloads), timeout_s=120)
    profile.disable()
    delete_prefix(client, prefix)
    return {
        "n": handled,
        "profiled_per_s": handled / seconds,
        "top_tottime": profile_rows(profile, "tottime", 15),
        "project_cumtime": profile_rows(profile, "cumtime", 12, only_project=True),
    }


def report_ingest(r: dict) -> None:
    """Print section 1: drain rate and batch latency beside raw XREAD + json.loads, the producer beside
    raw XADD, scale-out beside one worker, RSS, stage costs and (if run) the profile."""
    target = "meets" if r["meets_target"] else "BELOW"
    rows = [
        ["ingest: StreamIngest drain", fmt_rate(r["ingest_per_s"]), "raw XREAD + json.loads",
         fmt_rate(r["raw_xread_loads_per_s"]), f"{target} target >= {INGEST_TARGET_PER_S:,} /s"],
        ["ingest: drain / raw XREAD + json.loads", f"{r['baseline_ratio']:.3f}", "", "",
         f"{'meets' if r['meets_ratio'] else 'BELOW'} target >= {INGEST_BASELINE_RATIO}"],
        ["per-batch latency p50", fmt_ms(r["batch_p50_ms"]), "raw XREAD + json.loads batch p50",
         fmt_ms(r["raw_batch_p50_ms"]), f"{INGEST_BATCH} alerts per batch"],
        ["per-batch latency p95", fmt_ms(r["batch_p95_ms"]), "raw XREAD + json.loads batch p95",
         fmt_ms(r["raw_batch_p95_ms"]), f"max {fmt_ms(r['batch_max_ms'])}"],
    ]
    if "scale_out" in r:
        s = r["scale_out"]
        rows.append([f"ingest: {s['workers']} worker processes", fmt_rate(s["per_s"]),
                     "one worker (row above)", fmt_rate(r["ingest_per_s"]),
                     (f"{'meets' if (s['per_s'] or 0) >= INGEST_TARGET_PER_S else 'BELOW'} target; "
                      f"split {'/'.join(map(str, s['per_worker']))}, stored {s['stored']:,}")])
    rows += [
        ["producer: send_to_stream", fmt_rate(r["producer_send_to_stream_per_s"]), "raw pipelined XADD",
         fmt_rate(r["raw_xadd_per_s"]), f"chunks of {PRODUCER_CHUNK}"],
        ["peak RSS (process)", fmt_mb(r["rss_peak_mb"]), "RSS before draining", fmt_mb(r["rss_before_mb"]),
         "ru_maxrss; includes the payloads held"],
    ]
    for name, rate in r["stages_per_s"].items():
        rows.append([f"  stage: {name}", fmt_rate(rate), "", "",
                     (f"{r['stages_us_per_alert'][name]:.1f} us/alert"
                      + ("" if "Redis" in name else ", one core, no Redis"))])
    w = r["worst_area"]
    for label in ("4000", "max", "cap"):
        kind = "CAP zigzags + circles" if label == "cap" else "zigzag area"
        rows.append([f"  placement: {kind}, {w[f'area_{label}_vertices']:,} vertices",
                     fmt_ms(w[f"area_{label}_ms"]), "one point (place_points)", fmt_ms(w["point_ms"]),
                     f"{w[f'area_{label}_bytes']:,} B payload; decode + budget + place_area"])
    print_table(f"1. Ingest throughput ({r['n']:,} alerts, {r['payload_bytes_mean']:.0f} B each)", HEADERS, rows)
    print(f"   stored {r['stored']:,} of {r['n']:,}; dead letters {r['dead_letters']}; "
          f"pending {r['pending']}; RegionIndex load {fmt_ms(r['region_index_load_ms'])}")
    if "profile" in r:
        p = r["profile"]
        print(f"\n   cProfile of the drain ({p['n']:,} alerts, {p['profiled_per_s']:,.0f} /s under the profiler)")
        print_profile(p)
