"""The base map: a blank MapLibre style plus country and region outlines and place names from shipped data.

No tile server, no sprites, no glyph server: the styles (``OFFLINE_STYLE``,
``labelled_style``) name no outside resource; the outlines are GeoJSON files
served from our own assets, and the place names (``layers.labels``) are drawn
with font files served from our own assets too.
"""
from __future__ import annotations

from pathlib import Path

from layers.labels import font_faces, label_layers
from layers.traces import in_order

#: The shipped assets (``assets/``: boundaries, places, fonts).
SHIPPED_ASSETS = Path(__file__).resolve().parent.parent / "assets"

REGION_CENTRE = {"lat": 42.3, "lon": 21.8}
REGION_ZOOM = 4.6
#: The core nations' extent (west, south, east, north; degrees): the opening view fits it to the map's size
#: in the browser (``assets/map_select.js``), Ljubljana to the Black Sea coast at phone and desktop sizes.
REGION_BOUNDS = (13.3, 34.9, 29.8, 48.3)

#: Asset paths (relative to the app's assets URL) of the outlines drawn.
COUNTRY_OUTLINES = "geo/admin0_ne50m.geojson"
REGION_OUTLINES = "geo/admin1.geojson"


def boundary_layers(assets_url: str) -> list[dict]:
    """MapLibre layers for land, region lines and country lines, drawn below the incidents."""
    countries = f"{assets_url.rstrip('/')}/{COUNTRY_OUTLINES}"
    regions = f"{assets_url.rstrip('/')}/{REGION_OUTLINES}"
    return [
        {"sourcetype": "geojson", "source": countries, "type": "fill", "color": "#f2efe6", "below": "traces"},
        {"sourcetype": "geojson", "source": regions, "type": "line", "color": "#c9c4b8",
         "line": {"width": 0.6}, "below": "traces"},
        {"sourcetype": "geojson", "source": countries, "type": "line", "color": "#6b6b6b",
         "line": {"width": 1.3}, "below": "traces"},
    ]


#: A blank MapLibre style of our own: a sea-coloured background and nothing
#: else, so no sprite, glyph or tile URL exists for the browser to fetch.
OFFLINE_STYLE = {
    # plotly compares styles by id: without one it rebuilds the map on every update.
    "id": "crisis-offline",
    "version": 8,
    "name": "offline",
    # An empty object would be pruned on the way to the browser; MapLibre requires the key.
    "sources": {"empty": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
    "layers": [{"id": "sea", "type": "background", "paint": {"background-color": "#dbe7ef"}}],
}


def labelled_style(assets_url: str) -> dict:
    """``OFFLINE_STYLE`` plus the ``font-faces`` place names are drawn with (``layers.labels``); still no
    ``glyphs`` URL, so MapLibre draws text itself from those fonts."""
    return {**OFFLINE_STYLE, "id": "crisis-offline-labelled", "font-faces": font_faces(assets_url)}


def map_figure(traces: list[dict], assets_url: str, uirevision: str = "map", centre: dict | None = None,
               zoom: float | None = None) -> dict:
    """The whole figure as a plain dict (``dcc.Graph`` takes it as is): outlines, place names, ``traces``;
    the view at ``centre`` (``{"lon", "lat"}``, degrees) and ``zoom`` when given (the view the user has, so a
    rebuild never moves the map), else the region (``REGION_CENTRE``, ``REGION_ZOOM``)."""
    layout = dict(
        map={
            "style": labelled_style(assets_url),
            "center": dict(centre) if centre else REGION_CENTRE,
            "zoom": REGION_ZOOM if zoom is None else zoom,
            "layers": boundary_layers(assets_url) + label_layers(SHIPPED_ASSETS),
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        showlegend=False,
        uirevision=uirevision,  # keep the user's pan and zoom across rebuilds
        hoverlabel={"align": "left"},
    )
    # each trace's uid is its name, so the browser can name its MapLibre layers (assets/map_layers.js)
    return {"data": [{**trace, "uid": trace["name"].replace(" ", "-")} for trace in in_order(traces)],
            "layout": layout}
