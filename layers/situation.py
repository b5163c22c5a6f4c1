"""Leadership charts: alerts per hour by type, and open incidents by country and by region (offline maps)."""
from __future__ import annotations

from layers.basemap import COUNTRY_OUTLINES, OFFLINE_STYLE, REGION_CENTRE, REGION_OUTLINES
from layers.incidents import TYPE_COLOURS, type_label


def trend_figure(trend: dict) -> dict:
    """Stacked bars: alerts reported per hour (UTC), one colour per type."""
    data = [
        {"type": "bar", "name": type_label(t.value), "x": trend["hours"], "y": trend["by_type"][t.value],
         "marker": {"color": colour}}
        for t, colour in TYPE_COLOURS.items() if any(trend["by_type"][t.value])
    ]
    return {"data": data, "layout": {"barmode": "stack", "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
                                     "legend": {"orientation": "h"}, "height": 260,
                                     "xaxis": {"type": "date"}, "yaxis": {"title": {"text": "alerts per hour"}}}}


def choropleth_figure(counts: dict[str, int], assets_url: str, by: str) -> dict:
    """Open incidents per country (``by="country"``, ISO2 keys) or per region (ISO 3166-2 keys)."""
    path, key = (COUNTRY_OUTLINES, "properties.iso_a2") if by == "country" else (REGION_OUTLINES,
                                                                                 "properties.iso_3166_2")
    geojson = f"{assets_url.rstrip('/')}/{path}"
    trace = {"type": "choroplethmap", "geojson": geojson, "featureidkey": key,
             "locations": list(counts), "z": list(counts.values()), "colorscale": "OrRd", "zmin": 0,
             "marker": {"opacity": 0.75, "line": {"width": 0.5}},
             "colorbar": {"title": {"text": "open"}, "thickness": 10},
             "hovertemplate": "%{location}: %{z} open<extra></extra>"}
    return {"data": [trace], "layout": {
        "map": {"style": OFFLINE_STYLE, "center": REGION_CENTRE, "zoom": 4.2,
                "layers": [{"sourcetype": "geojson", "source": f"{assets_url.rstrip('/')}/{COUNTRY_OUTLINES}",
                            "type": "fill", "color": "#f2efe6", "below": "traces"}]},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "height": 320, "uirevision": by}}
