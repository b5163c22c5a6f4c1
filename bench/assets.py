"""4. Response assets: the nearest suitable asset for an incident, and coverage recomputes.

``n`` synthetic assets around random core populated places (±0.3°), no Redis
(the in-memory registry's work). Nearest suitable asset:
``alerts.core.suitability.suggest`` over an ``AssetTable``, 200 random
incidents, p50/p95 in ms, beside a pure-Python loop (``suits`` /
``visible_to`` and one ``GEOD.inv`` per asset, then sort); the run also counts
identical top-10 rankings. Coverage: ``alerts.core.coverage.coverage`` for two
capability/time cases, median of 5 in ms, beside an exact geodesic reach test
per place. Targets: nearest < 50 ms at 5,000 assets, coverage < 1 s.
"""
from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import numpy as np

from alerts.core.model import AlertType
from bench.common import (
    ASSETS,
    HEADERS,
    fmt_ms,
    median_time,
    pct,
    print_table,
    rss_peak_mb,
)

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
    """Baseline for ``suggest``, the plainest way: one ``GEOD.inv`` call per suitable asset, then sort."""
    from alerts.core.assets import AssetStatus
    from alerts.core.crs import GEOD
    from alerts.core.suitability import suits

    found = []
    for asset in assets:
        if asset.status is AssetStatus.READY and asset.visible_to(nation) and suits(asset, incident):
            _, _, metres = GEOD.inv(lon, lat, asset.position.lon, asset.position.lat)
            found.append((metres / 1000.0, asset.id))
    found.sort()
    return [asset_id for _, asset_id in found[:limit]]


def geodesic_gaps(chosen: list, minutes: float, places) -> int:
    """Baseline for ``coverage``: places out of reach of every ``chosen`` asset, by exact geodesic
    distance (one vectorised ``GEOD.inv`` per place, no polygons)."""
    from alerts.core.crs import GEOD

    lon = np.array([a.position.lon for a in chosen])
    lat = np.array([a.position.lat for a in chosen])
    reach_km = np.array([a.speed_kmh for a in chosen]) * minutes / 60.0
    gaps = 0
    for plon, plat in zip(places.lon, places.lat):
        _, _, metres = GEOD.inv(np.full(len(lon), plon), np.full(len(lon), plat), lon, lat)
        gaps += not bool((np.asarray(metres) / 1000.0 <= reach_km).any())
    return gaps


def bench_assets(n: int, places, queries: int = 200, repeats: int = 5) -> dict:
    """Nearest-suitable-asset query times (ms p50/p95 over ``queries``) beside ``naive_suggest``, the
    AssetTable build (ms), and coverage recomputes (ms, median of ``repeats``) beside ``geodesic_gaps``."""
    from alerts.core.coverage import Places, coverage
    from alerts.core.suitability import AssetTable, suggest

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
        ms, result = median_time(lambda c=capability, t=minutes: coverage(assets, c, t, core_places), repeats)
        out[f"{key}_ms"] = ms
        out[f"{key}_assets"] = len(result.assets)
        out[f"{key}_gaps"] = len(result.gaps)
        counted = set(result.assets)
        chosen = [a for a in assets if a.id in counted]
        out[f"{key}_geodesic_ms"], out[f"{key}_geodesic_gaps"] = median_time(
            lambda c=chosen, t=minutes: geodesic_gaps(c, t, core_places), repeats)
    out["rss_peak_mb"] = rss_peak_mb()
    return out


def report_assets(r: dict) -> None:
    """Print section 4: nearest suitable asset p50/p95 beside the per-asset loop, the table build, and
    each coverage case beside the geodesic test per place (with both gap counts)."""
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
                     (f"{r[f'{key}_assets']:,} assets, {r[f'{key}_gaps']} gaps of {r['places']} places "
                      f"(geodesic: {r[f'{key}_geodesic_gaps']}); target < {COVERAGE_TARGET_MS:.0f} ms")])
    print_table(f"4. Response assets ({r['queries']} nearest-asset queries; coverage median of 5)", HEADERS, rows)
