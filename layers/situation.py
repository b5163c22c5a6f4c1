"""Leadership charts: alerts per hour by type, and open incidents by country and by region (offline maps)."""
from __future__ import annotations

import math

from alerts.i18n import gettext as _
from layers.basemap import COUNTRY_OUTLINES, OFFLINE_STYLE, REGION_CENTRE, REGION_OUTLINES
from layers.incidents import TYPE_COLOURS, type_label

#: Open-incident fills: a count of 1 is already clearly coloured, never the pale "none" end of a scale.
FIRST_COUNT_COLOUR, MOST_COUNT_COLOUR = "#fdbb84", "#b30000"


def integer_ticks(maximum: float) -> dict:
    """Axis/colour-bar tick settings for whole counts from 0 to ``maximum``: whole-number steps
    (at most about five ticks), labels without decimals."""
    return {"tickmode": "linear", "tick0": 0, "dtick": max(1, math.ceil(maximum / 5)), "tickformat": "d"}


def trend_figure(trend: dict) -> dict:
    """Stacked bars: alerts reported per hour (UTC), one colour per type; whole-number y ticks from 0. Type
    names and the axis title in the current language (``alerts.i18n``)."""
    data = [
        {"type": "bar", "name": type_label(t.value), "x": trend["hours"], "y": trend["by_type"][t.value],
         "marker": {"color": colour}}
        for t, colour in TYPE_COLOURS.items() if any(trend["by_type"][t.value])
    ]
    return {"data": data, "layout": {"barmode": "stack", "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
                                     "legend": {"orientation": "h"}, "height": 260,
                                     "xaxis": {"type": "date"},
                                     "yaxis": {"title": {"text": _("alerts per hour")}, "rangemode": "tozero",
                                               **integer_ticks(max(map(sum, zip(*trend["by_type"].values())),
                                                                   default=1))}}}


def choropleth_figure(counts: dict[str, int], assets_url: str, by: str) -> dict:
    """Open incidents per country (``by="country"``, ISO2 keys) or per region (ISO 3166-2 keys).

    The colour scale runs from 0 with whole-number ticks; a place with one open
    incident is already clearly coloured (``FIRST_COUNT_COLOUR``), places with
    none keep the base fill. Keys that are not places (``unplaced``) are left out. The colour bar's title
    and the hover label's words are in the current language (``alerts.i18n``).
    """
    counts = {k: v for k, v in counts.items() if k != "unplaced" and v > 0}
    most = max(counts.values(), default=1)
    colours = ([[0.0, "#f2efe6"], [1.0, FIRST_COUNT_COLOUR]] if most == 1 else
               [[0.0, "#f2efe6"], [1 / most, FIRST_COUNT_COLOUR], [1.0, MOST_COUNT_COLOUR]])
    path, key = (COUNTRY_OUTLINES, "properties.iso_a2") if by == "country" else (REGION_OUTLINES,
                                                                                 "properties.iso_3166_2")
    geojson = f"{assets_url.rstrip('/')}/{path}"
    trace = {"type": "choroplethmap", "geojson": geojson, "featureidkey": key,
             "locations": list(counts), "z": list(counts.values()), "colorscale": colours, "zmin": 0, "zmax": most,
             "marker": {"opacity": 0.75, "line": {"width": 0.5}},
             "colorbar": {"title": {"text": _("open")}, "thickness": 10, **integer_ticks(most)},
             "hovertemplate": _("%(place)s: %(count)s open") % {"place": "%{location}", "count": "%{z}"}
             + "<extra></extra>"}
    return {"data": [trace], "layout": {
        "map": {"style": OFFLINE_STYLE, "center": REGION_CENTRE, "zoom": 4.2,
                "layers": [{"sourcetype": "geojson", "source": f"{assets_url.rstrip('/')}/{COUNTRY_OUTLINES}",
                            "type": "fill", "color": "#f2efe6", "below": "traces"}]},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "height": 320, "uirevision": by}}
