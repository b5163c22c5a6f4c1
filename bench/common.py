"""What every benchmark shares: paths, Redis helpers, synthetic alerts, timing, tables, load average, results.

Nothing here is measured itself. The sections (``bench.ingest``,
``bench.latency``, ``bench.map``, ``bench.assets``, ``bench.ack``) build on
these helpers; ``bench.run`` drives them. Times are in milliseconds unless a
name says otherwise (``_s``: seconds), rates in items per second, memory in
MiB (printed as MB). Redis clients come from ``alerts.store.client.connect``,
like the application's own.
"""
from __future__ import annotations

import json
import os
import platform
import random
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
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

from alerts.core.model import AlertType, Severity
from alerts.store.client import connect

JITTER_DEG = 0.02  # ~2 km around a populated place

#: The columns of every results table.
HEADERS = ["measure", "value", "baseline (same run)", "baseline value", "note"]


# --- Redis -----------------------------------------------------------------------------------------


def client_for(url: str, timeout: float | None = None) -> redis.Redis:
    """A Redis client for ``url``, made the application's way (``alerts.store.client.connect``);
    ``timeout`` (seconds) also bounds connecting."""
    return connect(url, timeout=timeout)


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    """Delete every key under ``prefix:`` (SCAN + DEL in batches of 1,000); returns how many."""
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


# --- measuring -------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile of ``values`` (numpy's linear interpolation), None when empty."""
    return float(np.percentile(values, q)) if values else None


def p50_p95_max(values: list[float]) -> dict:
    """``{"p50", "p95", "max"}`` of ``values`` (None where empty), the shape the latency tables read."""
    return {"p50": pct(values, 50), "p95": pct(values, 95), "max": max(values, default=None)}


def rss_now_mb() -> float | None:
    """Resident set size of this process now, in MiB (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def rss_peak_mb() -> float:
    """Peak resident set size of this process so far (``ru_maxrss``), in MiB."""
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; -1 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``predicate`` every 50 ms; ``TimeoutError`` naming ``what`` after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)


def loadavg() -> float | None:
    """The 1-minute load average, rounded to 2 places (None where the OS has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# --- printing --------------------------------------------------------------------------------------


def fmt_rate(value: float | None) -> str:
    """A rate as ``12,345 /s`` (``-`` for None)."""
    return "-" if value is None else f"{value:,.0f} /s"


def fmt_ms(value: float | None) -> str:
    """Milliseconds, one decimal below 100 ms (``-`` for None)."""
    return "-" if value is None else (f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms")


def fmt_mb(value: float | None) -> str:
    """Megabytes with two decimals (``-`` for None)."""
    return "-" if value is None else f"{value:,.2f} MB"


def fmt_p50_p95(d: dict) -> str:
    """``p50 / p95`` of a percentile dict, as milliseconds."""
    return f"{fmt_ms(d['p50'])} / {fmt_ms(d['p95'])}"


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """A plain-text table under an underlined title; value columns (1 and 3) right-aligned."""
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


# --- synthetic alerts ------------------------------------------------------------------------------


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
    """Each alert dict as a JSON payload (bytes), as a producer sends it."""
    return [json.dumps(a).encode() for a in alerts]


def chunks(items: list, size: int) -> Iterator[list]:
    """Consecutive slices of ``items`` of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the run ---------------------------------------------------------------------------------------


def meta(url: str, quick: bool) -> dict:
    """What the figures were measured on: versions, CPUs, load average at the start, Redis version."""
    import dash
    import plotly

    client = client_for(url)
    try:
        info = client.info("server")
    finally:
        client.close()
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
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


def write_results(path: Path, results: dict) -> None:
    """Write the results of the run as indented JSON (``bench/results/latest.json`` by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


def cap_zigzag_payload(vertices: int) -> bytes:
    """A CAP 1.2 alert whose one ``<area>`` holds two self-intersecting zigzag ``<polygon>`` elements of
    ``vertices`` in all, and two circles: the costliest CAP geometry per byte (``bench.ingest``)."""
    def polygon(lat0: float) -> str:
        points = [f"{lat0 + 4 * (i % 2)},{14 + 12 * i / vertices:.5f}" for i in range(vertices // 2)]
        return "<polygon>" + " ".join([*points, points[0]]) + "</polygon>"

    area = (f"<area><areaDesc>zigzag</areaDesc>{polygon(40)}{polygon(41)}"
            "<circle>43.0,20.0 5</circle><circle>44.0,21.0 2</circle></area>")
    return ("<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>worst</identifier>"
            "<sender>bench@example.org</sender><sent>2026-01-01T00:00:00+00:00</sent><status>Actual</status>"
            "<msgType>Alert</msgType><scope>Public</scope><info><category>Met</category><event>zigzag</event>"
            "<urgency>Expected</urgency><severity>Minor</severity><certainty>Likely</certainty>"
            f"{area}</info></alert>").encode()


def find_chromium() -> str | None:
    """``$CHROMIUM``, else ``chromium`` / ``chromium-browser`` / ``google-chrome`` on PATH (never downloads one)."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate:
            return candidate
    return None


def browser_or_skip():
    """``(sync_playwright, chromium path)``, or ``{"skipped": why}`` without Playwright or a Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return {"skipped": f"playwright not importable: {exc}"}
    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "no Chromium found (set CHROMIUM=/path/to/chromium)"}
    return sync_playwright, chromium
