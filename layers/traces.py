"""The order of the traces in the live map's figure: the one place that owns the trace indices.

The browser patches traces by index (``assets/live.js``, ``assets/assets_live.js``)
and reads these indices from the page (``dashboard.components.ids.page_contract``),
so changing the order here changes it everywhere.
"""
from __future__ import annotations

#: Trace names in drawing order (later ones are drawn above earlier ones).
MAP_TRACES = (
    "incidents ring", "incidents core",  # incidents present when the figure was built
    "live ring", "live core",  # incidents that arrived live since
    "assets ring", "assets dot",
    "coverage area", "coverage gaps",
)
INCIDENT_RING, INCIDENT_CORE, LIVE_RING, LIVE_CORE, ASSET_RING, ASSET_DOT, COVERAGE_AREA, COVERAGE_GAPS = range(
    len(MAP_TRACES))


def trace_indices() -> dict[str, int]:
    """Trace name (spaces as underscores) -> index, for the page contract."""
    return {name.replace(" ", "_"): index for index, name in enumerate(MAP_TRACES)}


def in_order(traces: list[dict]) -> list[dict]:
    """``traces`` checked against ``MAP_TRACES`` (raises ``ValueError`` if a layer put one out of place)."""
    names = tuple(trace["name"] for trace in traces)
    if names != MAP_TRACES:
        raise ValueError(f"map traces out of order: {names} (expected {MAP_TRACES})")
    return traces
