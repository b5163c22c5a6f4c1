"""The order of the traces in the live map's figure and the rule for picking what is under the pointer.

The one place that owns the trace indices: the browser patches traces by index
(``assets/live.js``, ``assets/assets_live.js``) and reads these indices from the
page (``dashboard.components.ids.page_contract``), so changing the order here
changes it everywhere.

Drawing order (later traces are drawn above earlier ones): coverage, then
assets, then incidents (first their grid cells, ``layers.cells``, then the
points), so an incident is never hidden under an asset. Within
the incidents every exercise halo is below every type ring, and every ring is
below every severity core, whether the incident was in the figure when it was
built or arrived live: a live incident's ring never covers a built one's core.

Picking (``HIT_LAYERS``, read by ``assets/map_select.js``): a click selects what
is under the pointer, within the radius of its outermost circle; incidents
first (live, then built), then assets, nearer first within a kind; a grid
cell is picked only where nothing else is, and zooms the map in to it. When more
than one feature is there, a picker lists them all in that order, so each can
still be chosen. Hover labels follow the same rule (``layers.assets.DOT_SIZE``).
"""
from __future__ import annotations

#: Trace names in drawing order (later ones are drawn above earlier ones).
MAP_TRACES = (
    "coverage area", "coverage gaps",
    "assets ring", "assets dot",
    "incidents cells",  # incidents counted in grid cells, drawn when there are too many for points (layers.cells)
    "incidents halo", "live halo",  # the exercise mark (transparent for real incidents)
    "incidents ring", "live ring",  # the type; "incidents": present when the figure was built, "live": arrived since
    "incidents core", "live core",  # the severity; these answer hover and click
)
(COVERAGE_AREA, COVERAGE_GAPS, ASSET_RING, ASSET_DOT, INCIDENT_CELLS, INCIDENT_HALO, LIVE_HALO, INCIDENT_RING,
 LIVE_RING, INCIDENT_CORE, LIVE_CORE) = range(len(MAP_TRACES))

#: What a click may pick, first choice first: the kind, the trace whose points are picked (their
#: ``customdata`` names them), and the trace whose marker sizes give each point's extent on screen.
HIT_LAYERS = (
    ("incident", "live core", "live ring"),
    ("incident", "incidents core", "incidents ring"),
    ("asset", "assets dot", "assets ring"),
    ("cell", "incidents cells", "incidents cells"),  # a click on a cell zooms in to it (assets/map_select.js)
)


def trace_indices() -> dict[str, int]:
    """Trace name (spaces as underscores) -> index, for the page contract."""
    return {name.replace(" ", "_"): index for index, name in enumerate(MAP_TRACES)}


def hit_layers() -> list[dict]:
    """``HIT_LAYERS`` with trace indices, for the page contract: ``[{"kind", "points", "extent"}, ...]``."""
    return [{"kind": kind, "points": MAP_TRACES.index(points), "extent": MAP_TRACES.index(extent)}
            for kind, points, extent in HIT_LAYERS]


def in_order(traces: list[dict]) -> list[dict]:
    """``traces`` arranged in ``MAP_TRACES`` order (raises ``ValueError`` naming what is missing, unknown or
    twice, so a layer cannot drop or add a trace unnoticed)."""
    by_name: dict[str, dict] = {}
    for trace in traces:
        if trace["name"] in by_name or trace["name"] not in MAP_TRACES:
            raise ValueError(f"map trace unknown or twice: {trace['name']!r} (expected each of {MAP_TRACES})")
        by_name[trace["name"]] = trace
    missing = [name for name in MAP_TRACES if name not in by_name]
    if missing:
        raise ValueError(f"map traces missing: {missing}")
    return [by_name[name] for name in MAP_TRACES]
