"""Performance benchmarks: ingest throughput, publish-to-screen latency, map page build, response assets.

    python -m bench.run [--quick] [--redis-url URL] [--only ingest,latency,map,assets] [--profile]

Every figure is printed next to a baseline measured in the same run (a raw
Redis or plain-Python version of the same work), so a slow machine shows up
in both columns and the ratio still means something. Results are also written
to ``bench/results/latest.json``. See ``bench/README.md`` for what each
figure means.

All Redis keys live under one fresh prefix (``bench-<uuid>:...``) and are
deleted at the end, whatever happens.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import resource
import secrets
import shutil
import statistics
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import redis

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
ASSETS = ROOT / "assets"
PLACES = ASSETS / "geo" / "populated_places_ne10m.geojson"

if str(ROOT) not in sys.path:  # so ``tests.conftest`` and the packages import from a plain checkout
    sys.path.insert(0, str(ROOT))

from alerts.store.keys import Keys  # noqa: E402
from alerts.core.model import AlertType, Severity  # noqa: E402

INGEST_TARGET_PER_S = 10_000
LATENCY_TARGET_P95_MS = 250.0

FULL = {"ingest_n": 50_000, "latency_m": 200, "map_sizes": [1_000, 10_000, 100_000]}
QUICK = {"ingest_n": 5_000, "latency_m": 30, "map_sizes": [1_000, 10_000]}

PRODUCER_CHUNK = 1_000  # payloads per send_to_stream call
INGEST_BATCH = 500  # StreamIngest's default batch; the raw baselines read the same batch size
JITTER_DEG = 0.02  # ~2 km around a populated place


# --- small helpers -------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def rss_now_mb() -> float | None:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def rss_peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time in ms over ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} /s"


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms")


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f} MB"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print()
    print(title)
    print("=" * len(title))
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip())
    print(line)
    for row in rows:
        cells = []
        for i, (cell, width) in enumerate(zip(row, widths)):
            cell = str(cell)
            # The value columns (1 and 3) read better right-aligned; the rest left-aligned.
            cells.append(cell.rjust(width) if i in (1, 3) else cell.ljust(width))
        print("  ".join(cells).rstrip())


# --- synthetic alerts ----------------------------------------------------------------------------


def load_places() -> list[tuple[float, float, str, str]]:
    """(lon, lat, iso2, name) of the populated places in the core (Balkan) countries."""
    features = json.loads(PLACES.read_text(encoding="utf-8"))["features"]
    places = []
    for feature in features:
        props = feature["properties"]
        if props.get("role", "core") != "core":
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        iso2 = props.get("iso_a2") or ("XK" if props.get("adm0_a3") == "KOS" else "MK")
        if len(iso2) != 2 or not iso2.isalpha():
            iso2 = "XK"
        places.append((float(lon), float(lat), iso2.upper(), props.get("name_en") or props.get("name") or "?"))
    if not places:
        raise RuntimeError(f"no populated places found in {PLACES}")
    return places


def make_alerts(n: int, tag: str, rng: random.Random, places, *, spread_minutes: float = 7 * 24 * 60,
                start: int = 0) -> list[dict]:
    """``n`` valid schema-v1 alert dicts; the id is also in the title (so it shows in the list)."""
    now = datetime.now(UTC)
    types = [t.value for t in AlertType]
    severities = [s.value for s in Severity]
    alerts = []
    for i in range(start, start + n):
        lon, lat, iso2, name = rng.choice(places)
        alert_id = f"{tag}-{i:06d}"
        alerts.append({
            "id": alert_id,
            "type": rng.choice(types),
            "severity": rng.choice(severities),
            "title": f"{name}: bench alert {alert_id}",
            "description": "Synthetic alert from bench/run.py.",
            "location": {"lat": round(lat + rng.uniform(-JITTER_DEG, JITTER_DEG), 5),
                         "lon": round(lon + rng.uniform(-JITTER_DEG, JITTER_DEG), 5)},
            "reported_at": (now - timedelta(minutes=rng.uniform(0, spread_minutes))).isoformat(),
            "source": iso2,
            "releasable_to": ["ALL"] if rng.random() < 0.9 else [iso2],
            "exercise": rng.random() < 0.1,
        })
    return alerts


def encode(alerts: list[dict]) -> list[bytes]:
    return [json.dumps(a).encode() for a in alerts]


def chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- 1. ingest throughput ------------------------------------------------------------------------


def short_path(filename: str) -> str:
    if filename.startswith(str(ROOT)):
        return os.path.relpath(filename, ROOT)
    marker = "site-packages" + os.sep
    if marker in filename:
        return filename.split(marker, 1)[1]
    if os.sep in filename:
        return os.path.basename(filename)
    return filename


def profile_rows(profile: cProfile.Profile, sort: str, limit: int, only_project: bool = False) -> list[dict]:
    stats = pstats.Stats(profile)
    rows = []
    for (filename, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if only_project and not filename.startswith(str(ROOT)):
            continue
        rows.append({"function": f"{short_path(filename)}:{line}({func})", "calls": nc,
                     "tottime_s": round(tt, 4), "cumtime_s": round(ct, 4)})
    rows.sort(key=lambda r: r["tottime_s" if sort == "tottime" else "cumtime_s"], reverse=True)
    return rows[:limit]


def drain(ingest, expected: int, timeout_s: float) -> tuple[int, list[float], float]:
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


def bench_ingest(url: str, prefix: str, n: int, places, force_profile: bool, no_profile: bool,
                 workers: int = 2) -> dict:
    from alerts.formats.decode import decode_alert
    from alerts.core.geography import RegionIndex
    from alerts.ingest.workers import IngestPipeline, StreamIngest, _stored
    from alerts.store.producer import send_to_stream
    from alerts.store.alerts import AlertStore

    rng = random.Random(1)
    run = uuid.uuid4().hex[:8]
    payloads = encode(make_alerts(n, f"ing-{run}", rng, places))
    client = redis.Redis.from_url(url)
    keys = Keys(f"{prefix}:ingest")
    out: dict = {"n": n, "batch": INGEST_BATCH, "producer_chunk": PRODUCER_CHUNK,
                 "payload_bytes_mean": round(sum(map(len, payloads)) / n, 1)}

    # Baseline A: raw pipelined XADD of the same payloads (no MAXLEN, one pipeline per chunk).
    raw_key = f"{prefix}:baseline:stream"
    start = time.perf_counter()
    for chunk in chunks(payloads, PRODUCER_CHUNK):
        pipe = client.pipeline(transaction=False)
        for payload in chunk:
            pipe.xadd(raw_key, {"payload": payload})
        pipe.execute()
    out["raw_xadd_per_s"] = n / (time.perf_counter() - start)

    # Baseline B: raw XREAD + json.loads of them, same batch size as the ingest worker.
    last, got, raw_batches = "0-0", 0, []
    start = time.perf_counter()
    while got < n:
        t0 = time.perf_counter()
        reply = client.xread({raw_key: last}, count=INGEST_BATCH)
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
    client.delete(raw_key)

    # The producer API, as a producer would use it (pipelined XADD with approximate MAXLEN).
    start = time.perf_counter()
    for chunk in chunks(payloads, PRODUCER_CHUNK):
        send_to_stream(client, keys, chunk)
    out["producer_send_to_stream_per_s"] = n / (time.perf_counter() - start)

    # The worker.
    start = time.perf_counter()
    regions = RegionIndex.from_assets(ASSETS)
    out["region_index_load_ms"] = (time.perf_counter() - start) * 1000
    gc.collect()
    out["rss_before_mb"] = rss_now_mb()
    worker_client = redis.Redis.from_url(url)
    ingest = StreamIngest(IngestPipeline(AlertStore(worker_client, keys), regions), consumer="bench",
                          batch=INGEST_BATCH)
    ingest.ensure_group()
    handled, batch_ms, seconds = drain(ingest, n, timeout_s=max(60.0, n / 500))
    out["handled"] = handled
    out["ingest_per_s"] = handled / seconds
    out["ingest_seconds"] = seconds
    out["batch_p50_ms"], out["batch_p95_ms"] = pct(batch_ms, 50), pct(batch_ms, 95)
    out["batch_max_ms"] = max(batch_ms) if batch_ms else None
    out["stored"] = client.xlen(keys.events)
    out["dead_letters"] = client.xlen(keys.dead_letters) if client.exists(keys.dead_letters) else 0
    out["pending"] = client.xpending(keys.inbox, keys.ingest_group)["pending"]
    out["rss_peak_mb"] = rss_peak_mb()
    out["meets_target"] = out["ingest_per_s"] >= INGEST_TARGET_PER_S
    delete_prefix(client, keys.prefix)

    # Stage costs in this process, no Redis: what one core spends per alert on each step.
    from alerts.core.model import Alert

    stages = {}
    start = time.perf_counter()
    decoded = [decode_alert(p) for p in payloads]
    stages["decode_alert (json + pydantic)"] = time.perf_counter() - start
    start = time.perf_counter()
    placements = []
    for batch in chunks(decoded, INGEST_BATCH):
        placements += regions.place_points(np.array([a.location.lon for a in batch]),
                                           np.array([a.location.lat for a in batch]))
    stages["RegionIndex.place_points (batches of 500)"] = time.perf_counter() - start
    now = datetime.now(UTC)
    stored = [_stored(a, p, now, a.location.lon, a.location.lat) for a, p in zip(decoded, placements)]
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
    out["stages_per_s"] = {name: n / s for name, s in stages.items()}
    out["stages_us_per_alert"] = {name: s / n * 1e6 for name, s in stages.items()}
    del decoded, placements, stored

    if workers > 1:
        out["scale_out"] = scale_out(url, f"{prefix}:scale", payloads, workers)

    if force_profile or (not no_profile and not out["meets_target"]):
        out["profile"] = profile_ingest(url, f"{prefix}:profile", payloads[: min(n, 10_000)], regions)
    return out


def _worker_drain(url: str, prefix: str, consumer: str, ready, go, results) -> None:
    """One ingest worker process of the scale-out run (a consumer of the same group)."""
    from alerts.core.geography import RegionIndex
    from alerts.ingest.workers import IngestPipeline, StreamIngest
    from alerts.store.alerts import AlertStore

    regions = RegionIndex.from_assets(ASSETS)
    client = redis.Redis.from_url(url)
    ingest = StreamIngest(IngestPipeline(AlertStore(client, Keys(prefix)), regions), consumer=consumer,
                          batch=INGEST_BATCH)
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
    """Drain the same payloads with ``workers`` processes in one consumer group."""
    import multiprocessing

    from alerts.ingest.workers import IngestPipeline, StreamIngest
    from alerts.store.producer import send_to_stream
    from alerts.store.alerts import AlertStore

    client = redis.Redis.from_url(url)
    keys = Keys(prefix)
    for chunk in chunks(payloads, PRODUCER_CHUNK):
        send_to_stream(client, keys, chunk)
    StreamIngest(IngestPipeline(AlertStore(client, keys), None), consumer="setup").ensure_group()  # type: ignore[arg-type]
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


def profile_ingest(url: str, prefix: str, payloads: list[bytes], regions) -> dict:
    from alerts.ingest.workers import IngestPipeline, StreamIngest
    from alerts.store.producer import send_to_stream
    from alerts.store.alerts import AlertStore

    client = redis.Redis.from_url(url)
    keys = Keys(prefix)
    for chunk in chunks(payloads, PRODUCER_CHUNK):
        send_to_stream(client, keys, chunk)
    ingest = StreamIngest(IngestPipeline(AlertStore(client, keys), regions), consumer="bench", batch=INGEST_BATCH)
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
    target = "meets" if r["meets_target"] else "BELOW"
    rows = [
        ["ingest: StreamIngest drain", fmt_rate(r["ingest_per_s"]), "raw XREAD + json.loads",
         fmt_rate(r["raw_xread_loads_per_s"]), f"{target} target >= {INGEST_TARGET_PER_S:,} /s"],
        ["per-batch latency p50", fmt_ms(r["batch_p50_ms"]), "raw XREAD + json.loads batch p50",
         fmt_ms(r["raw_batch_p50_ms"]), f"{INGEST_BATCH} alerts per batch"],
        ["per-batch latency p95", fmt_ms(r["batch_p95_ms"]), "raw XREAD + json.loads batch p95",
         fmt_ms(r["raw_batch_p95_ms"]), f"max {fmt_ms(r['batch_max_ms'])}"],
        *([[f"ingest: {r['scale_out']['workers']} worker processes", fmt_rate(r["scale_out"]["per_s"]),
             "one worker (row above)", fmt_rate(r["ingest_per_s"]),
             f"{'meets' if (r['scale_out']['per_s'] or 0) >= INGEST_TARGET_PER_S else 'BELOW'} target; "
             f"split {'/'.join(map(str, r['scale_out']['per_worker']))}, stored {r['scale_out']['stored']:,}"]]
          if "scale_out" in r else []),
        ["producer: send_to_stream", fmt_rate(r["producer_send_to_stream_per_s"]), "raw pipelined XADD",
         fmt_rate(r["raw_xadd_per_s"]), f"chunks of {PRODUCER_CHUNK}"],
        ["peak RSS (process)", fmt_mb(r["rss_peak_mb"]), "RSS before draining", fmt_mb(r["rss_before_mb"]),
         "ru_maxrss; includes the payloads held"],
    ]
    for name, rate in r["stages_per_s"].items():
        rows.append([f"  stage: {name}", fmt_rate(rate), "", "",
                     f"{r['stages_us_per_alert'][name]:.1f} us/alert"
                     + ("" if "Redis" in name else ", one core, no Redis")])
    print_table(f"1. Ingest throughput ({r['n']:,} alerts, {r['payload_bytes_mean']:.0f} B each)",
                ["measure", "value", "baseline (same run)", "baseline value", "note"], rows)
    print(f"   stored {r['stored']:,} of {r['n']:,}; dead letters {r['dead_letters']}; "
          f"pending {r['pending']}; RegionIndex load {fmt_ms(r['region_index_load_ms'])}")
    if "profile" in r:
        p = r["profile"]
        print(f"\n   cProfile of the drain ({p['n']:,} alerts, {p['profiled_per_s']:,.0f} /s under the profiler)")
        print("   top functions by own time:")
        for row in p["top_tottime"]:
            print(f"     {row['tottime_s']:8.3f} s own {row['cumtime_s']:8.3f} s cum {row['calls']:>8}x  {row['function']}")
        print("   project functions by cumulative time:")
        for row in p["project_cumtime"]:
            print(f"     {row['cumtime_s']:8.3f} s cum {row['tottime_s']:8.3f} s own {row['calls']:>8}x  {row['function']}")


# --- 2. publish-to-screen latency ----------------------------------------------------------------

OBSERVER_JS = """
(pattern) => {
  const re = new RegExp(pattern, "g");
  const seen = {};
  window.__benchSeen = seen;
  const scan = () => {
    const now = performance.timeOrigin + performance.now();
    const list = document.getElementById("alert-list");
    if (!list) { return; }
    const found = list.textContent.match(re);
    if (!found) { return; }
    for (const id of found) { if (!(id in seen)) { seen[id] = now; } }
  };
  window.__benchObserver = new MutationObserver(scan);
  window.__benchObserver.observe(document.body, {childList: true, subtree: true, characterData: true});
  scan();
  return true;
}
"""


#: Installed before any page script: stamps when each live ``alert`` event reaches the browser.
SSE_PROBE_JS = """
(() => {
  const Native = window.EventSource;
  if (!Native) { return; }
  const seen = {};
  window.__benchSse = seen;
  function Probed(url, options) {
    const source = new Native(url, options);
    source.addEventListener("alert", (event) => {
      const now = performance.timeOrigin + performance.now();
      try {
        const id = JSON.parse(event.data).id;
        if (!(id in seen)) { seen[id] = now; }
      } catch (err) { /* not ours */ }
    });
    return source;
  }
  Probed.prototype = Native.prototype;
  Probed.CONNECTING = 0; Probed.OPEN = 1; Probed.CLOSED = 2;
  window.EventSource = Probed;
  // Main-thread tasks over 50 ms (what delays event dispatch and rendering).
  window.__benchLongTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        window.__benchLongTasks.push([performance.timeOrigin + entry.startTime, entry.duration]);
      }
    }).observe({type: "longtask", buffered: true});
  } catch (err) { /* not supported */ }
})();
"""


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate:
            return candidate
    return None


class ChannelListener(threading.Thread):
    """Baseline: a plain redis-py pub/sub subscriber stamping each payload's arrival."""

    def __init__(self, url: str, channel: str):
        super().__init__(name="bench-subscriber", daemon=True)
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.received: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            message = self.pubsub.get_message(timeout=0.1)
            if message is None:
                continue
            at = time.time() * 1000
            try:
                self.received.setdefault(json.loads(message["data"])["id"], at)
            except (ValueError, KeyError, TypeError):
                pass

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=2)
        self.pubsub.close()
        self.client.close()


class SseListener(threading.Thread):
    """Baseline: a plain HTTP client on the dashboard's own live stream (no browser)."""

    def __init__(self, url: str, cookies: dict[str, str]):
        import httpx

        super().__init__(name="bench-sse", daemon=True)
        self.url = url
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, read=None), cookies=cookies)
        self.received: dict[str, float] = {}
        self.connected = threading.Event()
        self.status: int | None = None
        self.error: str | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with self.client.stream("GET", self.url, headers={"accept": "text/event-stream"}) as response:
                self.status = response.status_code
                self.connected.set()
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        at = time.time() * 1000
                        try:
                            self.received.setdefault(json.loads(line[6:])["id"], at)
                        except (ValueError, KeyError, TypeError):
                            pass
        except Exception as exc:  # the server going away ends the stream
            if not self.stop.is_set():
                self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.connected.set()

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=3)
        self.client.close()


def sign_in_if_asked(page, base_url: str, client: redis.Redis, prefix: str) -> str | None:
    """If the server sends the browser to /login, create a throw-away user under the run's prefix and sign in."""
    if "/login" not in page.url:
        return None
    from alerts.store.accounts import Accounts  # only exists once sign-in does

    password = secrets.token_urlsafe(18)
    Accounts(client, Keys(prefix)).add_user("bench", "duty_officer", "MK", password)
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
    return "bench (duty_officer, MK)"


def wait_seen(page, expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        count = page.evaluate("Object.keys(window.__benchSeen || {}).length")
        if count >= expected:
            break
        time.sleep(0.25)
    return count


def bench_latency(url: str, prefix: str, m: int, spacing_ms: float, places) -> dict:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return {"skipped": f"playwright not importable: {exc}"}
    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "no Chromium found (set CHROMIUM=/path/to/chromium)"}
    from alerts.store.producer import send_to_channel
    from tests.conftest import BROWSER_ARGS, start_server, stop_server

    lat_prefix = f"{prefix}:latency"
    keys = Keys(lat_prefix)
    client = redis.Redis.from_url(url)
    run = uuid.uuid4().hex[:8]
    tag = f"lat-{run}"
    rng = random.Random(2)
    warmup = make_alerts(3, f"{tag}-w", rng, places, spread_minutes=1)
    measured = make_alerts(m, tag, rng, places, spread_minutes=1)
    for alert in warmup + measured:
        alert["releasable_to"] = ["ALL"]  # every viewer may see them
    pattern = rf"{tag}(?:-w)?-\d{{6}}"
    out: dict = {"m": m, "spacing_ms": spacing_ms, "warmup": len(warmup), "chromium": os.path.basename(chromium)}

    start = time.perf_counter()
    server = start_server(url, lat_prefix)
    out["server_start_s"] = time.perf_counter() - start
    listener = sse_listener = None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(SSE_PROBE_JS)
                page = context.new_page()
                page.goto(server.url + "/", wait_until="domcontentloaded")
                out["signed_in_as"] = sign_in_if_asked(page, server.url, client, lat_prefix)
                start = time.perf_counter()
                page.wait_for_function("document.body.dataset.live === 'open'", timeout=60_000)
                out["page_live_s"] = time.perf_counter() - start
                page.evaluate(OBSERVER_JS, pattern)

                channel = keys.alerts_channel
                _wait(lambda: client.pubsub_numsub(channel)[0][1] >= 1, 20, "the ingest worker to subscribe")
                listener = ChannelListener(url, channel)
                listener.start()
                _wait(lambda: client.pubsub_numsub(channel)[0][1] >= 2, 10, "the baseline subscriber")
                cookies = {c["name"]: c["value"] for c in context.cookies(server.url)}
                sse_listener = SseListener(server.url + "/live/alerts", cookies)
                sse_listener.start()
                sse_listener.connected.wait(10)
                out["sse_client_status"] = sse_listener.status

                # Warm-up (not counted): first render paths, connection setup.
                for alert in warmup:
                    send_to_channel(client, keys, [json.dumps(alert).encode()])
                    time.sleep(spacing_ms / 1000)
                wait_seen(page, len(warmup), 20)

                published: dict[str, float] = {}
                server_cpu_before = cpu_seconds(server.process.pid)
                start = time.perf_counter()
                for i, alert in enumerate(measured):
                    delay = start + i * spacing_ms / 1000 - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    payload = json.dumps(alert).encode()
                    published[alert["id"]] = time.time() * 1000
                    send_to_channel(client, keys, [payload])
                out["publish_seconds"] = time.perf_counter() - start
                wait_seen(page, len(warmup) + m, 20)
                seen: dict[str, float] = page.evaluate("window.__benchSeen")
                sse: dict[str, float] = page.evaluate("window.__benchSse || {}")
                out["live_applied"] = page.evaluate("Number(document.body.dataset.liveApplied || 0)")
                long_tasks = page.evaluate("window.__benchLongTasks || []")
                server_cpu_s = cpu_seconds(server.process.pid) - server_cpu_before
            finally:
                browser.close()
    finally:
        if listener is not None:
            listener.close()
        stop_server(server)  # also ends the SSE client's stream
        if sse_listener is not None:
            sse_listener.close()
            out["sse_client_error"] = sse_listener.error

    screen = [seen[i] - t for i, t in published.items() if i in seen]
    redis_rx = [listener.received[i] - t for i, t in published.items() if i in listener.received]
    sse_rx = [sse_listener.received[i] - t for i, t in published.items() if i in sse_listener.received]
    # Where the time goes: the events-stream id is Redis' clock (same machine) when the alert was stored.
    stored_at = {}
    for eid, fields in client.xrange(keys.events):
        alert = json.loads(fields[b"alert"])
        stored_at[alert["alert"]["id"]] = int(eid.decode().split("-")[0])
    to_store = [stored_at[i] - t for i, t in published.items() if i in stored_at]
    store_to_screen = [seen[i] - stored_at[i] for i in published if i in seen and i in stored_at]
    store_to_browser = [sse[i] - stored_at[i] for i in published if i in sse and i in stored_at]
    browser_to_screen = [seen[i] - sse[i] for i in published if i in seen and i in sse]
    window_start = min(published.values())
    window_end = max([window_start, *(seen[i] for i in published if i in seen)])
    in_window = [d for at, d in long_tasks if window_start <= at <= window_end]
    window_s = (window_end - window_start) / 1000
    out.update({
        "window_s": window_s,
        "browser_long_tasks": {"count": len(in_window), "total_ms": sum(in_window),
                               "max_ms": max(in_window, default=0.0),
                               "busy_share": sum(in_window) / 1000 / window_s if window_s else None},
        "server_cpu_share": server_cpu_s / window_s if window_s and server_cpu_s >= 0 else None,
        "arrived": len(screen),
        # Reached the page but never shown: one flush carried more than the list's 50 items.
        "in_browser_not_listed": sum(1 for i in published if i in sse and i not in seen),
        "screen_ms": {"p50": pct(screen, 50), "p95": pct(screen, 95), "max": max(screen, default=None)},
        "baseline_redis_ms": {"p50": pct(redis_rx, 50), "p95": pct(redis_rx, 95), "max": max(redis_rx, default=None)},
        "baseline_arrived": len(redis_rx),
        "baseline_sse_client_ms": {"p50": pct(sse_rx, 50), "p95": pct(sse_rx, 95), "max": max(sse_rx, default=None)},
        "baseline_sse_client_arrived": len(sse_rx),
        "publish_to_stored_ms": {"p50": pct(to_store, 50), "p95": pct(to_store, 95)},
        "stored_to_screen_ms": {"p50": pct(store_to_screen, 50), "p95": pct(store_to_screen, 95)},
        "stored_to_browser_ms": {"p50": pct(store_to_browser, 50), "p95": pct(store_to_browser, 95)},
        "browser_to_screen_ms": {"p50": pct(browser_to_screen, 50), "p95": pct(browser_to_screen, 95)},
        "stored": len(stored_at),
    })
    out["meets_target"] = out["arrived"] == m and (out["screen_ms"]["p95"] or 1e9) < LATENCY_TARGET_P95_MS
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; -1 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)


def _p50_p95(d: dict) -> str:
    return f"{fmt_ms(d['p50'])} / {fmt_ms(d['p95'])}"


def report_latency(r: dict) -> None:
    title = "2. Publish-to-screen latency"
    if "skipped" in r:
        print(f"\n{title}: skipped ({r['skipped']})")
        return
    s, b, c = r["screen_ms"], r["baseline_redis_ms"], r["baseline_sse_client_ms"]
    verdict = "meets" if r["meets_target"] else "MISSES"
    rows = []
    for q in ("p50", "p95", "max"):
        note = f"{verdict} target p95 < {LATENCY_TARGET_P95_MS:.0f} ms" if q == "p95" else ""
        rows.append([f"publish -> #alert-list {q}", fmt_ms(s[q]), f"PUBLISH -> redis-py subscriber {q}",
                     fmt_ms(b[q]), note])
        rows.append(["", "", f"publish -> SSE client (no browser) {q}", fmt_ms(c[q]), ""])
    rows += [
        ["arrived on screen", f"{r['arrived']} / {r['m']}", "arrived at subscriber / SSE client",
         f"{r['baseline_arrived']} / {r['baseline_sse_client_arrived']}",
         f"stored {r['stored'] - r['warmup']}; reached page, not listed {r['in_browser_not_listed']}"],
        ["  publish -> stored (p50 / p95)", _p50_p95(r["publish_to_stored_ms"]), "", "",
         "events-stream id time"],
        ["  stored -> #alert-list (p50 / p95)", _p50_p95(r["stored_to_screen_ms"]), "", "",
         "follower + SSE + browser"],
        ["    stored -> SSE event in browser", _p50_p95(r["stored_to_browser_ms"]), "", "",
         "follower XREAD + SSE"],
        ["    SSE event -> #alert-list", _p50_p95(r["browser_to_screen_ms"]), "", "",
         "live.js + Dash render"],
    ]
    print_table(f"{title} ({r['m']} alerts, one every {r['spacing_ms']:.0f} ms, {r['warmup']} warm-up not counted)",
                ["measure", "value", "baseline (same run)", "baseline value", "note"], rows)
    lt = r["browser_long_tasks"]
    share = r["server_cpu_share"]
    print(f"   during the {r['window_s']:.1f} s window: browser main thread in long tasks (> 50 ms) "
          f"{lt['count']}x, {lt['total_ms']:,.0f} ms ({(lt['busy_share'] or 0) * 100:.0f}%), longest {lt['max_ms']:,.0f} ms; "
          f"server process CPU {'-' if share is None else f'{share * 100:.0f}%'} of one core")
    print(f"   server start {r['server_start_s']:.1f} s; page live after {r['page_live_s']:.1f} s; "
          f"points applied to the map {r['live_applied']}; signed in as {r['signed_in_as'] or '- (no sign-in asked)'}")


# --- 3. map page build ---------------------------------------------------------------------------


def validated_figure(figure: dict):
    """Baseline: the same figure as plotly graph objects (per-value validation, as ``go.Figure`` does)."""
    import plotly.graph_objects as go

    return go.Figure(figure)


def naive_select(alerts: list, query) -> list:
    """Baseline for ``AlertIndex.select``: test every object, then sort newest first."""
    matching = [s for s in alerts if query.matches(s)]
    matching.sort(key=lambda s: s.alert.reported_at, reverse=True)
    return matching


def naive_summarise(alerts: list) -> dict:
    """Baseline for ``summarise``: the same counts with ``collections.Counter`` over objects."""
    sev, open_sev, types, country = (collections.Counter() for _ in range(4))
    open_count = exercise = 0
    for s in alerts:
        sev[s.alert.severity.value] += 1
        types[s.alert.type.value] += 1
        country[s.placement.country or "unplaced"] += 1
        exercise += s.alert.exercise
        if s.status.is_open:
            open_count += 1
            open_sev[s.alert.severity.value] += 1
    return {"total_alerts": len(alerts), "open_alerts": open_count, "exercise_alerts": exercise,
            "by_severity": dict(sev), "open_by_severity": dict(open_sev), "by_type": dict(types),
            "by_country": dict(sorted(country.items()))}


def bench_map(sizes: list[int], places, repeats: int, fixed_repeats: bool = False) -> dict:
    import plotly.io as pio

    from alerts.core.geography import RegionIndex
    from alerts.core.index import AlertIndex
    from alerts.ingest.workers import _stored
    from alerts.core.model import Alert
    from alerts.core.query import AlertQuery
    from alerts.core.situation import summarise
    from layers.basemap import map_figure
    from layers.incidents import incident_traces

    rng = random.Random(3)
    biggest = max(sizes)
    start = time.perf_counter()
    regions = RegionIndex.from_assets(ASSETS)
    documents = make_alerts(biggest, f"map-{uuid.uuid4().hex[:8]}", rng, places, spread_minutes=30 * 24 * 60)
    alerts = [Alert.model_validate(d) for d in documents]
    placements = regions.place_points(np.array([a.location.lon for a in alerts]),
                                      np.array([a.location.lat for a in alerts]))
    now = datetime.now(UTC)
    stored = [_stored(a, p, now, a.location.lon, a.location.lat) for a, p in zip(alerts, placements)]
    del documents, alerts, placements
    out: dict = {"setup_s": time.perf_counter() - start, "repeats": repeats,
                 "json_engine": pio.json.config.default_engine, "sizes": []}

    everything = AlertQuery()
    narrow = AlertQuery(severities=frozenset({"critical", "high"}), exercise="real", nation="MK")
    default_repeats = repeats
    for n in sizes:
        subset = stored[:n]
        repeats = default_repeats if n < 100_000 or fixed_repeats else 1
        r: dict = {"n": n, "repeats": repeats}
        index = AlertIndex()
        start = time.perf_counter()
        index.load(subset, "0-0")
        r["index_load_ms"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        index.table()
        r["table_build_ms"] = (time.perf_counter() - start) * 1000  # paid again after every applied event

        r["select_ms"], rows = median_time(lambda: index.select(everything), repeats)
        r["summarise_ms"], _ = median_time(lambda: summarise(rows), repeats)
        # The whole situation picture (issue 6), with half the alerts acknowledged and a tenth resolved.
        from alerts.core.situation import ResponseTimes, situation

        acked = {i: ("bench", now + timedelta(minutes=k % 30)) for k, i in enumerate(rows["id"][::2])}
        resolved = {i: ("bench", now + timedelta(hours=1)) for i in rows["id"][::10]}
        times = ResponseTimes(acknowledged=acked, resolved=resolved, escalation={})
        r["situation_ms"], _ = median_time(
            lambda: situation(rows, times, now - timedelta(days=30), now + timedelta(hours=2)), repeats)
        r["select_narrow_ms"], narrow_rows = median_time(lambda: index.select(narrow), repeats)
        r["narrow_rows"] = len(narrow_rows)
        r["naive_select_ms"], naive_rows = median_time(lambda: naive_select(subset, everything), repeats)
        r["naive_summarise_ms"], _ = median_time(lambda: naive_summarise(naive_rows), repeats)
        r["naive_select_narrow_ms"], naive_narrow = median_time(lambda: naive_select(subset, narrow), repeats)
        assert len(naive_narrow) == len(narrow_rows), "naive and indexed selects disagree"

        def build(make_traces):
            return map_figure(make_traces(rows), "/assets/")

        r["build_ms"], figure = median_time(lambda: build(incident_traces), repeats)
        r["to_json_ms"], payload = median_time(lambda: pio.json.to_json_plotly(figure), repeats)
        r["payload_mb"] = len(payload.encode()) / 1e6
        r["go_build_ms"], go_figure = median_time(lambda: validated_figure(figure), repeats)
        r["go_to_json_ms"], go_payload = median_time(go_figure.to_json, repeats)
        r["go_payload_mb"] = len(go_payload.encode()) / 1e6
        r["total_ms"] = r["select_ms"] + r["build_ms"] + r["to_json_ms"]
        r["go_total_ms"] = r["select_ms"] + r["build_ms"] + r["go_build_ms"] + r["go_to_json_ms"]
        extra = subset[0].model_copy(update={"alert": subset[0].alert.model_copy(update={"id": "one-more"})})
        from alerts.core.events import AlertEvent
        index.apply(AlertEvent("9999999999999-0", "alert.created", extra))
        start = time.perf_counter()
        index.table()
        r["table_update_ms"] = (time.perf_counter() - start) * 1000
        out["sizes"].append(r)
        del index, rows, figure, payload, go_figure, go_payload
        gc.collect()
    out["rss_peak_mb"] = rss_peak_mb()
    return out


def report_map(r: dict) -> None:
    rows = []
    for s in r["sizes"]:
        n = f"{s['n']:,}"
        rows += [
            [f"{n}: figure build (typed-array dicts)", fmt_ms(s["build_ms"]), "as go.Figure (validated)",
             fmt_ms(s["go_build_ms"]), ""],
            [f"{n}: to JSON (Dash's encoder)", fmt_ms(s["to_json_ms"]), "go.Figure.to_json", fmt_ms(s["go_to_json_ms"]), ""],
            [f"{n}: payload size", fmt_mb(s["payload_mb"]), "go.Figure payload", fmt_mb(s["go_payload_mb"]), ""],
            [f"{n}: select + build + to_json", fmt_ms(s["total_ms"]), "with go.Figure", fmt_ms(s["go_total_ms"]),
             "what a map rebuild costs"],
            [f"{n}: AlertIndex.select (all)", fmt_ms(s["select_ms"]), "loop over objects: matches + sort",
             fmt_ms(s["naive_select_ms"]), "table cached"],
            [f"{n}: summarise (all)", fmt_ms(s["summarise_ms"]), "Counter over objects",
             fmt_ms(s["naive_summarise_ms"]), ""],
            [f"{n}: situation picture (issue 6)", fmt_ms(s["situation_ms"]), "summarise alone",
             fmt_ms(s["summarise_ms"]), "aim < 500 ms at 100k"],
            [f"{n}: select (narrow, nation MK)", fmt_ms(s["select_narrow_ms"]), "loop over objects",
             fmt_ms(s["naive_select_narrow_ms"]), f"{s['narrow_rows']:,} rows"],
            [f"{n}: index table first build", fmt_ms(s["table_build_ms"]), "AlertIndex.load",
             fmt_ms(s["index_load_ms"]), "once per process"],
            [f"{n}: table after one new event", fmt_ms(s["table_update_ms"]), "first build",
             fmt_ms(s["table_build_ms"]), "incremental: only the new row is added"],
        ]
    print_table(f"3. Map page build (median of {r['repeats']} runs, 1 from 100,000 up unless --repeats; "
                f"JSON engine {r['json_engine']})",
                ["measure", "value", "baseline (same run)", "baseline value", "note"], rows)
    print(f"   setup (StoredAlert objects + placement) {r['setup_s']:.1f} s; process peak RSS {fmt_mb(r['rss_peak_mb'])}")


# --- 4. response assets: nearest suitable asset, coverage -----------------------------------------

NEAREST_TARGET_MS = 50.0
COVERAGE_TARGET_MS = 1000.0
COVERAGE_CASES = [("medevac", 60), ("cbrn_team", 15)]  # many discs, few gaps / fewer discs, some gaps


def make_assets(n: int, rng: random.Random, places) -> list:
    """``n`` valid assets around random core populated places (±0.3°), random type, status and nation."""
    from alerts.core.assets import Asset, AssetType

    nations = sorted({p[2] for p in places})
    types = list(AssetType)
    caps = ["medevac", "search_and_rescue", "cbrn", "eod", "trauma_care", "firefighting", "border_security"]
    now = datetime.now(UTC).isoformat()
    assets = []
    for i in range(n):
        lon, lat, iso2, _ = rng.choice(places)
        lat, lon = lat + rng.uniform(-0.3, 0.3), lon + rng.uniform(-0.3, 0.3)
        assets.append(Asset.model_validate({
            "id": f"bench-asset-{i}", "name": f"Bench unit {i}", "nation": iso2, "type": rng.choice(types),
            "capabilities": rng.sample(caps, rng.randint(0, 2)),
            "status": rng.choices(["ready", "committed", "maintenance", "off_duty"], [70, 15, 10, 5])[0],
            "home_base": {"lat": lat, "lon": lon}, "position": {"lat": lat, "lon": lon},
            "speed_kmh": rng.choice([40, 60, 80, 220, 300]),
            "releasable_to": ["ALL"] if rng.random() < 0.7 else [iso2, rng.choice(nations)],
            "updated_at": now,
        }))
    return assets


def naive_suggest(assets: list, incident, lon: float, lat: float, nation: str, limit: int = 10) -> list:
    """The plainest way: one Geod.inv call per suitable asset, then sort."""
    from alerts.core.assets import GEOD, AssetStatus

    found = []
    for asset in assets:
        if asset.status is AssetStatus.READY and asset.visible_to(nation) and asset.suits(incident):
            _, _, metres = GEOD.inv(lon, lat, asset.position.lon, asset.position.lat)
            found.append((metres / 1000.0, asset.id))
    found.sort()
    return [asset_id for _, asset_id in found[:limit]]


def bench_assets(n: int, places, queries: int = 200, repeats: int = 5) -> dict:
    from alerts.core.assets import GEOD, AssetTable, suggest
    from alerts.core.coverage import Places, coverage

    rng = random.Random(5)
    assets = make_assets(n, rng, places)
    incidents = [(rng.choice(list(AlertType)), p[0] + rng.uniform(-0.2, 0.2), p[1] + rng.uniform(-0.2, 0.2),
                  rng.choice(places)[2]) for p in (rng.choice(places) for _ in range(queries))]
    out: dict = {"n_assets": n, "queries": queries}
    start = time.perf_counter()
    table = AssetTable(assets)
    out["table_build_ms"] = (time.perf_counter() - start) * 1000
    for incident, lon, lat, nation in incidents[:5]:  # warm the per-nation / per-type masks (built once, cached)
        suggest(table, incident, lon, lat, nation)
    for t in AlertType:
        table.suits(t)
    for nation in {q[3] for q in incidents}:
        table.visible(nation)

    fast, slow = [], []
    agree = 0
    for incident, lon, lat, nation in incidents:
        t0 = time.perf_counter()
        found = suggest(table, incident, lon, lat, nation, 10)
        fast.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        naive = naive_suggest(assets, incident, lon, lat, nation, 10)
        slow.append((time.perf_counter() - t0) * 1000)
        agree += [s["asset"].id for s in found] == naive
    out["nearest_p50_ms"], out["nearest_p95_ms"] = pct(fast, 50), pct(fast, 95)
    out["naive_p50_ms"], out["naive_p95_ms"] = pct(slow, 50), pct(slow, 95)
    out["agreeing_rankings"] = agree

    core_places = Places.from_assets(ASSETS)
    out["places"] = len(core_places.names)
    for capability, minutes in COVERAGE_CASES:
        key = f"coverage_{capability}_{minutes}min"
        ms, result = median_time(lambda: coverage(assets, capability, minutes, core_places), repeats)
        out[f"{key}_ms"] = ms
        out[f"{key}_assets"] = len(result.assets)
        out[f"{key}_gaps"] = len(result.gaps)
        chosen = [a for a in assets if a.id in set(result.assets)]

        def geodesic_gaps():
            lon = np.array([a.position.lon for a in chosen])
            lat = np.array([a.position.lat for a in chosen])
            reach_km = np.array([a.speed_kmh for a in chosen]) * minutes / 60.0
            gaps = 0
            for plon, plat in zip(core_places.lon, core_places.lat):
                _, _, metres = GEOD.inv(np.full(len(lon), plon), np.full(len(lon), plat), lon, lat)
                gaps += not bool((np.asarray(metres) / 1000.0 <= reach_km).any())
            return gaps

        out[f"{key}_geodesic_ms"], out[f"{key}_geodesic_gaps"] = median_time(geodesic_gaps, repeats)
    out["rss_peak_mb"] = rss_peak_mb()
    return out


def report_assets(r: dict) -> None:
    n = f"{r['n_assets']:,}"
    rows = [
        [f"nearest suitable asset, {n} assets: p50", fmt_ms(r["nearest_p50_ms"]),
         "loop with Geod.inv per asset", fmt_ms(r["naive_p50_ms"]), f"target < {NEAREST_TARGET_MS:.0f} ms"],
        [f"nearest suitable asset, {n} assets: p95", fmt_ms(r["nearest_p95_ms"]),
         "loop with Geod.inv per asset", fmt_ms(r["naive_p95_ms"]),
         f"{r['agreeing_rankings']}/{r['queries']} top-10 rankings identical"],
        [f"AssetTable build ({n})", fmt_ms(r["table_build_ms"]), "", "", "once per asset change"],
    ]
    for capability, minutes in COVERAGE_CASES:
        key = f"coverage_{capability}_{minutes}min"
        rows.append([f"coverage recompute, {capability} {minutes} min", fmt_ms(r[f"{key}_ms"]),
                     "geodesic distance test per place", fmt_ms(r[f"{key}_geodesic_ms"]),
                     f"{r[f'{key}_assets']:,} assets, {r[f'{key}_gaps']} gaps of {r['places']} places "
                     f"(geodesic: {r[f'{key}_geodesic_gaps']}); target < {COVERAGE_TARGET_MS:.0f} ms"])
    print_table(f"4. Response assets ({r['queries']} nearest-asset queries; coverage median of 5)",
                ["measure", "value", "baseline (same run)", "baseline value", "note"], rows)


# --- main ----------------------------------------------------------------------------------------


def loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def meta(url: str, args) -> dict:
    import dash
    import plotly

    client = redis.Redis.from_url(url)
    info = client.info("server")
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_1m_at_start": loadavg(),
        "redis_version": info.get("redis_version"),
        "redis_py": redis.__version__,
        "plotly": plotly.__version__,
        "dash": dash.__version__,
        "numpy": np.__version__,
    }


# --- 5. acknowledgment latency under concurrent responders ---------------------------------------------


def bench_ack(url: str, prefix: str, responders: int = 50, per_responder: int = 10) -> dict:
    """``POST /api/v1/alerts/{id}/ack`` from ``responders`` concurrent clients, each acknowledging its own
    alerts, then all of them racing for the same alerts (one wins, the rest get 409)."""
    import httpx

    from alerts.store.producer import send_to_stream
    from tests.conftest import add_user, start_server, stop_server

    sub = f"{prefix}:ack"
    server = start_server(url, sub)
    try:
        users = [add_user(url, sub, f"resp{i:02d}", "responder", "RS") for i in range(responders)]
        client = redis.Redis.from_url(url)
        keys = Keys(sub)
        now = datetime.now(UTC).isoformat()
        own = [[f"ack-{u}-{k}" for k in range(per_responder)] for u in range(responders)]
        shared = [f"race-{k}" for k in range(per_responder)]
        documents = [{"id": i, "type": "cyber", "severity": "high", "title": "bench", "location": {"lat": 44.8, "lon": 20.4},
                      "reported_at": now, "source": "RS", "releasable_to": ["ALL"]}
                     for i in [*sum(own, []), *shared]]
        send_to_stream(client, keys, [json.dumps(d) for d in documents])
        wait_until = time.monotonic() + 60
        while time.monotonic() < wait_until:
            if all(client.exists(keys.checklist(d["id"])) for d in documents[-3:]) and \
                    client.exists(keys.checklist(documents[0]["id"])):
                break
            time.sleep(0.05)

        def run(work: list[list[str]], method: str = "POST", path: str = "/api/v1/alerts/{}/ack") -> tuple[list, list]:
            latencies: list[float] = []
            codes: list[int] = []
            lock = threading.Lock()
            start = threading.Barrier(len(work))

            def responder(user, ids):
                with httpx.Client(base_url=server.url, headers=user.headers, timeout=30) as web:
                    web.get("/api/v1/me")  # connect first
                    start.wait()
                    for alert_id in ids:
                        t0 = time.perf_counter()
                        response = web.request(method, path.format(alert_id))
                        dt = (time.perf_counter() - t0) * 1000
                        with lock:
                            latencies.append(dt)
                            codes.append(response.status_code)

            threads = [threading.Thread(target=responder, args=(users[i], ids)) for i, ids in enumerate(work)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return latencies, codes

        own_lat, own_codes = run(own)
        race_lat, race_codes = run([shared] * responders)
        health_lat, _ = run([["x"] * per_responder] * responders, "GET", "/api/v1/me")

        def raw(worker: int) -> list[float]:
            c = redis.Redis.from_url(url)
            out = []
            for k in range(per_responder):
                t0 = time.perf_counter()
                c.hsetnx(f"{sub}:raw-acks", f"{worker}-{k}", "x")
                out.append((time.perf_counter() - t0) * 1000)
            return out

        raw_lat: list[float] = []
        threads = [threading.Thread(target=lambda w=w: raw_lat.extend(raw(w))) for w in range(responders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {
            "responders": responders, "per_responder": per_responder,
            "own": {"p50": pct(own_lat, 50), "p95": pct(own_lat, 95), "ok": own_codes.count(200), "n": len(own_codes)},
            "race": {"p50": pct(race_lat, 50), "p95": pct(race_lat, 95), "ok": race_codes.count(200),
                     "conflict": race_codes.count(409), "n": len(race_codes)},
            "me": {"p50": pct(health_lat, 50), "p95": pct(health_lat, 95)},
            "raw": {"p50": pct(raw_lat, 50), "p95": pct(raw_lat, 95)},
        }
    finally:
        stop_server(server)


def report_ack(r: dict) -> None:
    own, race, me, raw = r["own"], r["race"], r["me"], r["raw"]
    print_table(
        f"5. Acknowledgment latency ({r['responders']} concurrent responders x {r['per_responder']} alerts each)",
        ["measure", "value", "baseline (same run)", "baseline value", "note"],
        [
            ["ack, own alerts p50", fmt_ms(own["p50"]), "GET /api/v1/me p50 (auth + HTTP only)", fmt_ms(me["p50"]),
             f"{own['ok']}/{own['n']} answered 200"],
            ["ack, own alerts p95", fmt_ms(own["p95"]), "GET /api/v1/me p95", fmt_ms(me["p95"]), ""],
            ["ack, all racing for the same p50", fmt_ms(race["p50"]), "raw HSETNX p50 (50 threads)", fmt_ms(raw["p50"]),
             f"{race['ok']} x 200 (one per alert), {race['conflict']} x 409"],
            ["ack, all racing for the same p95", fmt_ms(race["p95"]), "raw HSETNX p95", fmt_ms(raw["p95"]), ""],
        ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (< 1 min)")
    parser.add_argument("--redis-url", default=os.environ.get("CRISIS_BENCH_REDIS_URL")
                        or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    parser.add_argument("--only", default="ingest,latency,map,assets,ack",
                        help="comma list of: ingest, latency, map, assets, ack")
    parser.add_argument("--assets", type=int, default=5_000, help="assets: how many assets (default 5,000)")
    parser.add_argument("--n", type=int, help="ingest: alerts (default 50,000; quick 5,000)")
    parser.add_argument("--m", type=int, help="latency: alerts published (default 200; quick 30)")
    parser.add_argument("--spacing-ms", type=float, default=20.0, help="latency: gap between publishes")
    parser.add_argument("--sizes", help="map: comma list of sizes (default 1000,10000,100000)")
    parser.add_argument("--repeats", type=int, help="map: timing repeats, median reported (default 3; 1 from 100,000 up)")
    parser.add_argument("--workers", type=int, default=2,
                        help="ingest: also drain with this many worker processes (default 2; 1 skips it)")
    parser.add_argument("--profile", action="store_true", help="ingest: always cProfile the drain")
    parser.add_argument("--no-profile", action="store_true", help="ingest: never profile, even below target")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json", help="where to write results")
    args = parser.parse_args(argv)

    preset = QUICK if args.quick else FULL
    n = args.n or preset["ingest_n"]
    m = args.m or preset["latency_m"]
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else preset["map_sizes"]
    repeats = args.repeats or 3
    sections = {s.strip() for s in args.only.split(",") if s.strip()}

    client = redis.Redis.from_url(args.redis_url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        print(f"cannot reach Redis at {args.redis_url}: {exc}", file=sys.stderr)
        return 2
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    results: dict = {"meta": meta(args.redis_url, args), "prefix": prefix}
    m_ = results["meta"]
    print(f"bench: {'quick' if args.quick else 'full'} run, Python {m_['python']}, {m_['cpus']} CPUs "
          f"(load average {m_['loadavg_1m_at_start']}), Redis {m_['redis_version']} at {args.redis_url}, key prefix {prefix}")
    places = load_places()
    failed = False
    started = time.perf_counter()
    try:
        for name, run, report in (
            ("ingest", lambda: bench_ingest(args.redis_url, prefix, n, places, args.profile, args.no_profile,
                                         args.workers),
             report_ingest),
            ("latency", lambda: bench_latency(args.redis_url, prefix, m, args.spacing_ms, places), report_latency),
            ("map", lambda: bench_map(sizes, places, repeats, args.repeats is not None), report_map),
            ("assets", lambda: bench_assets(args.assets, places), report_assets),
            ("ack", lambda: bench_ack(args.redis_url, prefix, 50, 3 if args.quick else 10), report_ack),
        ):
            if name not in sections:
                continue
            t0 = time.perf_counter()
            load_before = loadavg()
            try:
                results[name] = run()
                results[name]["section_seconds"] = time.perf_counter() - t0
                results[name]["loadavg_1m"] = {"before": load_before, "after": loadavg()}
                report(results[name])
                la = results[name]["loadavg_1m"]
                print(f"   section took {results[name]['section_seconds']:.1f} s; 1-min load average "
                      f"{la['before']} -> {la['after']} on {os.cpu_count()} CPUs (other work on the machine skews figures)")
            except Exception as exc:  # report and carry on with the other sections
                failed = True
                results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
                print(f"\n{name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
                traceback.print_exc()
    finally:
        removed = delete_prefix(client, prefix)
        results["cleanup_deleted_keys"] = removed
        results["total_seconds"] = time.perf_counter() - started
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\ntotal {results['total_seconds']:.1f} s; deleted {removed} leftover key(s) under {prefix}:*; "
              f"results in {os.path.relpath(args.json)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
