"""3. Map page build: what one rebuild of the map figure, and the read model under it, costs the server.

StoredAlert objects are built in memory (validated alerts placed with
``RegionIndex.place_points`` and wrapped by ``alerts.ingest.alerts.stored_alert``,
as ingest does) and loaded into an ``alerts.core.index.AlertIndex`` for each
size. Then, median of ``repeats`` (1 from 100,000 up unless ``--repeats``), in
ms and MB: the figure build (``layers.basemap.map_figure`` over the incident,
asset and coverage traces), Dash's JSON encoding, the payload size,
``AlertIndex.select``, ``summarise`` and ``situation``, and the index table's
first build and its update after one event. Baselines, same run: a validated
``go.Figure`` and its ``to_json``, a loop over the objects with
``AlertQuery.matches`` + sort, and ``collections.Counter``.

The map above its point limit (``layers.cells``, ``CRISIS_MAP_POINTS_MAX``, default ``POINTS_MAX``): the
rebuild (select, what is drawn, figure build, to JSON) and its payload in the opening view (grid cells once
the selection is over the limit) and zoomed in on Skopje at zoom 9 on a 1440 × 900 map (the points in view),
beside the full figure of the same run; targets: under ``TARGET_MS`` and ``TARGET_MB``.
"""
from __future__ import annotations

import collections
import gc
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

from bench.common import (
    ASSETS,
    HEADERS,
    fmt_mb,
    fmt_ms,
    make_alerts,
    median_time,
    print_table,
    rss_peak_mb,
)

#: The default point limit (``dashboard.settings.Settings.map_points_max``) and the issue's targets.
POINTS_MAX = 10_000
TARGET_MS, TARGET_MB = 2000.0, 5.0
#: The situation picture's target at ``SITUATION_AT`` alerts (the scale issue), milliseconds.
SITUATION_TARGET_MS, SITUATION_AT = 200.0, 100_000


def _situation_note(n: int, ms: float) -> str:
    if n != SITUATION_AT:
        return f"target < {SITUATION_TARGET_MS:g} ms at {SITUATION_AT:,}"
    verdict = "meets" if ms < SITUATION_TARGET_MS else "ABOVE"
    return f"{verdict} target < {SITUATION_TARGET_MS:g} ms"


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


def stored_alerts(n: int, places) -> list:
    """``n`` StoredAlert objects over 30 days, placed as ingest places them (no Redis)."""
    from alerts.core.feeds import FeedRegistry
    from alerts.core.geography import RegionIndex
    from alerts.core.markings import Classifications
    from alerts.core.model import Alert
    from alerts.core.routing import route
    from alerts.ingest.alerts import stored_alert

    rng = random.Random(3)
    regions = RegionIndex.from_assets(ASSETS)
    documents = make_alerts(n, f"map-{uuid.uuid4().hex[:8]}", rng, places, spread_minutes=30 * 24 * 60)
    alerts = [Alert.model_validate(d) for d in documents]
    points = [a.point() for a in alerts]
    placements = regions.place_points(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    now = datetime.now(UTC)
    feeds, scheme = FeedRegistry([]), Classifications()
    return [stored_alert(a, p, now, point, route(a, feeds, scheme))
              for a, p, point in zip(alerts, placements, points)]


def map_traces(rows) -> list[dict]:
    """Every trace of the live map for ``rows``, in the order ``map_figure`` checks: the incidents, no
    assets (layer on), no coverage."""
    from layers.assets import asset_traces
    from layers.coverage import coverage_traces
    from layers.incidents import incident_traces

    return incident_traces(rows) + asset_traces([], True) + coverage_traces(None)


def aggregated_figure(index, query, view) -> dict:
    """One map rebuild above the point limit as the page does it: select, ``layers.cells.drawn`` for
    ``view``, the traces and the figure."""
    from layers.assets import asset_traces
    from layers.basemap import map_figure
    from layers.cells import cell_trace, drawn
    from layers.coverage import coverage_traces
    from layers.incidents import incident_traces

    shown = drawn(index.select(query), view, POINTS_MAX)
    traces = incident_traces(shown.points, cell_trace(shown.cells)) + asset_traces([], True) + \
        coverage_traces(None)
    figure = map_figure(traces, "/assets/")
    figure["_drawn"] = (len(shown.points), 0 if shown.cells is None else len(shown.cells))
    return figure


def bench_aggregated(index, query, repeats: int) -> dict:
    """The aggregate map's rebuild (ms, select to JSON) and payload (MB), in the opening view and zoomed in."""
    import plotly.io as pio

    from layers.binning import view_bounds
    from layers.cells import OPENING_VIEW, MapView

    r: dict = {}
    zoomed = MapView(9.0, view_bounds(21.43, 42.0, 9.0, 1440, 900))
    for name, view in (("agg", OPENING_VIEW), ("zoomed", zoomed)):
        def rebuild(view=view):
            figure = aggregated_figure(index, query, view)
            counts = figure.pop("_drawn")
            return counts, pio.json.to_json_plotly(figure)

        r[f"{name}_ms"], (counts, payload) = median_time(rebuild, repeats)
        r[f"{name}_mb"] = len(payload.encode()) / 1e6
        r[f"{name}_points"], r[f"{name}_cells"] = counts
    return r


def bench_size(stored: list, repeats: int, now: datetime) -> dict:
    """Every map-build figure at one size (``len(stored)`` alerts): ms medians of ``repeats``, MB."""
    from types import SimpleNamespace

    import plotly.io as pio

    from alerts.actions.markings import marking_of_ids
    from alerts.core.events import ALERT_CREATED, AlertEvent
    from alerts.core.index import AlertIndex
    from alerts.core.markings import Classifications, most_restrictive
    from alerts.core.query import AlertQuery
    from alerts.core.situation import ResponseTimes, situation, summarise
    from layers.basemap import map_figure

    everything = AlertQuery()
    narrow = AlertQuery(severities=frozenset({"critical", "high"}), exercise="real", nation="MK")
    r: dict = {"n": len(stored), "repeats": repeats}
    index = AlertIndex()
    start = time.perf_counter()
    index.load(stored, "0-0")
    r["index_load_ms"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    index.table()
    r["table_build_ms"] = (time.perf_counter() - start) * 1000  # paid again after every applied event

    r["select_ms"], rows = median_time(lambda: index.select(everything), repeats)
    r["summarise_ms"], _ = median_time(lambda: summarise(rows), repeats)
    # The whole situation picture (issue 6), with half the alerts acknowledged and a tenth resolved.
    acked = {i: ("bench", now + timedelta(minutes=k % 30)) for k, i in enumerate(rows["id"][::2])}
    resolved = {i: ("bench", now + timedelta(hours=1)) for i in rows["id"][::10]}
    times = ResponseTimes(acknowledged=acked, resolved=resolved, escalation={})
    r["situation_ms"], _ = median_time(
        lambda: situation(rows, times, now - timedelta(days=30), now + timedelta(hours=2)), repeats)
    # The page's marking over every alert it shows (each map build), beside reading each record for it.
    centre = SimpleNamespace(index=index, scheme=Classifications())
    r["marking_ms"], marked = median_time(lambda: marking_of_ids(centre, rows["id"]), repeats)
    r["marking_records_ms"], from_records = median_time(
        lambda: most_restrictive((index.get(i).routing.marking(centre.scheme) for i in rows["id"]), centre.scheme),
        repeats)
    assert marked == from_records, "the marking from routings and from records disagree"
    r["select_narrow_ms"], narrow_rows = median_time(lambda: index.select(narrow), repeats)
    r["narrow_rows"] = len(narrow_rows)
    r["naive_select_ms"], naive_rows = median_time(lambda: naive_select(stored, everything), repeats)
    r["naive_summarise_ms"], _ = median_time(lambda: naive_summarise(naive_rows), repeats)
    r["naive_select_narrow_ms"], naive_narrow = median_time(lambda: naive_select(stored, narrow), repeats)
    assert len(naive_narrow) == len(narrow_rows), "naive and indexed selects disagree"

    r["build_ms"], figure = median_time(lambda: map_figure(map_traces(rows), "/assets/"), repeats)
    r["to_json_ms"], payload = median_time(lambda: pio.json.to_json_plotly(figure), repeats)
    r["payload_mb"] = len(payload.encode()) / 1e6
    r["go_build_ms"], go_figure = median_time(lambda: validated_figure(figure), repeats)
    r["go_to_json_ms"], go_payload = median_time(go_figure.to_json, repeats)
    r["go_payload_mb"] = len(go_payload.encode()) / 1e6
    r["total_ms"] = r["select_ms"] + r["build_ms"] + r["to_json_ms"]
    r["go_total_ms"] = r["select_ms"] + r["build_ms"] + r["go_build_ms"] + r["go_to_json_ms"]
    r.update(bench_aggregated(index, everything, repeats))
    extra = stored[0].model_copy(update={"alert": stored[0].alert.model_copy(update={"id": "one-more"})})
    index.apply(AlertEvent("9999999999999-0", ALERT_CREATED, extra))
    start = time.perf_counter()
    index.table()
    r["table_update_ms"] = (time.perf_counter() - start) * 1000
    return r


def bench_map(sizes: list[int], places, repeats: int, fixed_repeats: bool = False) -> dict:
    """The map-build figures for each of ``sizes`` (ms, MB), beside their same-run baselines
    (see the module docstring); ``repeats`` drops to 1 from 100,000 up unless ``fixed_repeats``."""
    import plotly.io as pio

    start = time.perf_counter()
    stored = stored_alerts(max(sizes), places)
    now = datetime.now(UTC)
    out: dict = {"setup_s": time.perf_counter() - start, "repeats": repeats,
                 "json_engine": pio.json.config.default_engine, "sizes": []}
    for n in sizes:
        out["sizes"].append(bench_size(stored[:n], repeats if n < 100_000 or fixed_repeats else 1, now))
        gc.collect()
    out["rss_peak_mb"] = rss_peak_mb()
    return out


def report_map(r: dict) -> None:
    """Print section 3: for each size, build / to JSON / payload beside go.Figure, select and summarise
    beside loops over objects, situation beside summarise, and the index table's build and update."""
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
            [f"{n}: rebuild with the point limit, opening view", fmt_ms(s["agg_ms"]), "full figure (above)",
             fmt_ms(s["total_ms"]), f"{s['agg_points']:,} points, {s['agg_cells']:,} cells; "
             f"target < {TARGET_MS / 1000:g} s"],
            [f"{n}: its payload", fmt_mb(s["agg_mb"]), "full figure", fmt_mb(s["payload_mb"]),
             f"target < {TARGET_MB:g} MB"],
            [f"{n}: rebuild zoomed in (Skopje, zoom 9)", fmt_ms(s["zoomed_ms"]), "full figure",
             fmt_ms(s["total_ms"]), f"{s['zoomed_points']:,} points, {s['zoomed_cells']:,} cells; "
             f"{fmt_mb(s['zoomed_mb'])} sent"],
            [f"{n}: AlertIndex.select (all)", fmt_ms(s["select_ms"]), "loop over objects: matches + sort",
             fmt_ms(s["naive_select_ms"]), "table cached"],
            [f"{n}: summarise (all)", fmt_ms(s["summarise_ms"]), "Counter over objects",
             fmt_ms(s["naive_summarise_ms"]), ""],
            [f"{n}: situation picture (issue 6)", fmt_ms(s["situation_ms"]), "summarise alone",
             fmt_ms(s["summarise_ms"]), _situation_note(n, s["situation_ms"])],
            [f"{n}: page marking (marking_of_ids)", fmt_ms(s["marking_ms"]), "from each record (index.get)",
             fmt_ms(s["marking_records_ms"]), "every map build"],
            [f"{n}: select (narrow, nation MK)", fmt_ms(s["select_narrow_ms"]), "loop over objects",
             fmt_ms(s["naive_select_narrow_ms"]), f"{s['narrow_rows']:,} rows"],
            [f"{n}: index table first build", fmt_ms(s["table_build_ms"]), "AlertIndex.load",
             fmt_ms(s["index_load_ms"]), "once per process"],
            [f"{n}: table after one new event", fmt_ms(s["table_update_ms"]), "first build",
             fmt_ms(s["table_build_ms"]), "incremental: only the new row is added"],
        ]
    print_table(f"3. Map page build (median of {r['repeats']} runs, 1 from 100,000 up unless --repeats; "
                f"JSON engine {r['json_engine']})", HEADERS, rows)
    print(f"   setup (StoredAlert objects + placement) {r['setup_s']:.1f} s; process peak RSS {fmt_mb(r['rss_peak_mb'])}")
