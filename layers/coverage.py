"""Coverage as map traces: the reachable area (a filled outline) and the gaps (places out of reach).

Both are ordinary scattermap traces (no fill layer with a style, no text), so
nothing is fetched. The area is drawn from its rings, separated by ``None``.
"""
from __future__ import annotations

from html import escape

import shapely

from alerts.core.coverage import Coverage
from alerts.i18n import gettext as _
from layers.traces import COVERAGE_AREA, COVERAGE_GAPS, MAP_TRACES

AREA_COLOUR = "#1a9850"
GAP_COLOUR = "#d73027"


def _rings(area) -> tuple[list, list]:
    lon: list = []
    lat: list = []
    polygons = shapely.get_parts(area) if area is not None else []
    for polygon in polygons:
        if polygon.geom_type != "Polygon":
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            xs, ys = ring.coords.xy
            lon += [round(v, 5) for v in xs] + [None]
            lat += [round(v, 5) for v in ys] + [None]
    return lon, lat


def coverage_traces(result: Coverage | None) -> list[dict]:
    """Two traces (area, gaps); empty when ``result`` is None (coverage off). The gaps' hover text is in the
    current language (``alerts.i18n``; place names and country codes as they are)."""
    out_of_reach = escape(_("Out of reach"))
    lon, lat = _rings(result.area) if result is not None else ([], [])
    gaps = result.gaps if result is not None else []
    area = {"type": "scattermap", "name": MAP_TRACES[COVERAGE_AREA], "lon": lon, "lat": lat, "mode": "lines",
            "fill": "toself", "fillcolor": "rgba(26,152,80,0.15)", "line": {"color": AREA_COLOUR, "width": 1},
            "hoverinfo": "skip", "showlegend": False}
    gap = {"type": "scattermap", "name": MAP_TRACES[COVERAGE_GAPS], "mode": "markers",
           "lon": [g["lon"] for g in gaps], "lat": [g["lat"] for g in gaps],
           "marker": {"size": 7, "color": GAP_COLOUR, "opacity": 0.85},
           "hovertext": [f"<b>{out_of_reach}</b><br>{escape(g['name'])} ({g['country']})" for g in gaps],
           "hoverinfo": "text", "showlegend": False}
    return [area, gap]
