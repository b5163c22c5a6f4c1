"""Place names on the base map, drawn by MapLibre from fonts shipped in ``assets/fonts``: nothing is fetched.

Labels are a MapLibre symbol layer over the shipped Natural Earth data
(``assets/geo``): country names at Natural Earth's preferred label points
(``label_x``, ``label_y``; not the microstates) and the capitals and major
cities of the region's eleven countries in ``populated_places_ne10m.geojson``
by ``scalerank`` (capitals and the largest cities from the opening zoom, the
rest from zoom 6). Where two labels would overlap MapLibre leaves one out;
layers higher in the style are placed first, so country names win over
city names, and major cities over the others.

Text without glyph PBFs: a MapLibre style without a ``glyphs`` URL draws text
in the browser (MapLibre GL JS 5.11 and later, TinySDF), and the style's
``font-faces`` (MapLibre style specification, root property ``font-faces``)
names the font files to draw with, each for its Unicode ranges. The files
are Open Sans 400 from the npm package ``@fontsource/open-sans`` 5.3.0 (SIL
Open Font License 1.1, ``assets/fonts/OFL.txt``), the subsets a Balkan map
needs: Latin, Latin Extended (Albanian, Croatian, Romanian, Serbian Latin,
Slovenian, Turkish), Cyrillic (Bulgarian, Macedonian, Serbian) and Greek;
their ranges are those of the package's ``400.css``. Plotly's symbol layers
set no ``text-font``, so MapLibre's default stack applies, whose first name
(``Open Sans Regular``) is the one the faces are declared under.

Pure data: no Dash, no Redis. Shapes: a label is a GeoJSON Point feature with
``name`` (str), ``kind`` (``country``, ``capital`` or ``city``), ``rank``
(int, Natural Earth's ``scalerank``; countries 0) and, for a country, ``iso``
(ISO 3166-1 alpha-2). Country names follow the viewer's language (CLDR's
territory names); English keeps Natural Earth's.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from alerts.i18n import SOURCE, current, reset, terms, use

#: The font stack MapLibre uses when a symbol layer sets no ``text-font`` (its first name).
DEFAULT_FONT = "Open Sans Regular"

#: Shipped font files (``assets/fonts``) and the Unicode ranges each covers (``@fontsource/open-sans`` 400.css).
FONT_FILES = {
    "open-sans-latin-400-normal.woff2": (
        "U+0000-00FF U+0131 U+0152-0153 U+02BB-02BC U+02C6 U+02DA U+02DC U+0304 U+0308 U+0329 U+2000-206F "
        "U+20AC U+2122 U+2191 U+2193 U+2212 U+2215 U+FEFF U+FFFD"),
    "open-sans-latin-ext-400-normal.woff2": (
        "U+0100-02BA U+02BD-02C5 U+02C7-02CC U+02CE-02D7 U+02DD-02FF U+0304 U+0308 U+0329 U+1D00-1DBF "
        "U+1E00-1E9F U+1EF2-1EFF U+2020 U+20A0-20AB U+20AD-20C0 U+2113 U+2C60-2C7F U+A720-A7FF"),
    "open-sans-cyrillic-400-normal.woff2": "U+0301 U+0400-045F U+0490-0491 U+04B0-04B1 U+2116",
    "open-sans-greek-400-normal.woff2": "U+0370-0377 U+037A-037F U+0384-038A U+038C U+038E-03A1 U+03A3-03FF",
}

COUNTRIES = "geo/admin0_ne10m.geojson"
PLACES = "geo/populated_places_ne10m.geojson"
#: Countries too small to name at any zoom the map offers (San Marino, Vatican).
MICROSTATES = {"SM", "VA"}
#: Places of this ``scalerank`` or lower show from the opening zoom; the others from ``CITY_MINZOOM``.
MAJOR_RANK = 4
CITY_MINZOOM = 6.0


def font_faces(assets_url: str) -> dict:
    """The style's ``font-faces``: ``{DEFAULT_FONT: [{"url", "unicode-range": [...]}, ...]}`` (URLs under
    ``assets_url``, the app's assets path, e.g. ``/assets/``)."""
    base = assets_url.rstrip("/")
    return {DEFAULT_FONT: [{"url": f"{base}/fonts/{name}", "unicode-range": ranges.split()}
                           for name, ranges in FONT_FILES.items()]}


@functools.lru_cache(maxsize=4)
def label_points(assets_dir: Path) -> dict:
    """Every label as a GeoJSON FeatureCollection (see the module docstring), read once per directory.

    Raises ``OSError`` or ``ValueError`` when a shipped file is missing or is not GeoJSON.
    """
    features = []
    for country in json.loads((assets_dir / COUNTRIES).read_text(encoding="utf-8"))["features"]:
        props = country["properties"]
        if props.get("iso_a2") in MICROSTATES:
            continue
        name = props["name_long"] if props.get("role") == "core" else props["name"]
        features.append(_point(props["label_x"], props["label_y"], name, "country", 0, props.get("iso_a2", "")))
    for place in json.loads((assets_dir / PLACES).read_text(encoding="utf-8"))["features"]:
        props = place["properties"]
        if props.get("role") != "core":
            continue  # the neighbours' cities would only crowd the region
        lon, lat = place["geometry"]["coordinates"]
        kind = "capital" if props.get("adm0cap") else "city"
        features.append(_point(lon, lat, props["name"], kind, int(props["scalerank"])))
    return {"type": "FeatureCollection", "features": features}


def _point(lon: float, lat: float, name: str, kind: str, rank: int, iso: str = "") -> dict:
    properties = {"name": name, "kind": kind, "rank": rank} | ({"iso": iso} if iso else {})
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 4), round(lat, 4)]},
            "properties": properties}


def _in_language(labels: dict, language: str) -> dict:
    """``labels`` with each country named in ``language`` (CLDR's territory names, ``alerts.i18n.terms``);
    English keeps Natural Earth's names. Cities keep theirs (Natural Earth has no names in these languages)."""
    if language == SOURCE:
        return labels
    token = use(language)
    try:
        return {"type": "FeatureCollection", "features": [
            {**f, "properties": {**f["properties"], "name": terms.country(f["properties"]["iso"])}}
            if f["properties"].get("iso") else f for f in labels["features"]]}
    finally:
        reset(token)


def _subset(labels: dict, keep) -> dict:
    return {"type": "FeatureCollection", "features": [f for f in labels["features"] if keep(f["properties"])]}


def label_layers(assets_dir: Path) -> list[dict]:
    """``_label_layers`` in the current language (``alerts.i18n.current``; built once per directory and
    language: every map figure carries them)."""
    return list(_label_layers(assets_dir, current()))


@functools.lru_cache(maxsize=32)
def _label_layers(assets_dir: Path, language: str) -> tuple[dict, ...]:
    """Plotly ``layout.map.layers`` entries (symbol layers, drawn below every trace): the places beyond the
    major ones from ``CITY_MINZOOM``, the major places, then country names (placed first). No icon (``icon`` empty: a named icon would
    be fetched from a CDN by plotly)."""
    labels = _in_language(label_points(assets_dir), language)

    def layer(source: dict, size: int, color: str, **extra) -> dict:
        return {"sourcetype": "geojson", "source": source, "type": "symbol", "below": "traces",
                "symbol": {"icon": "", "text": "{name}", "placement": "point",
                           "textfont": {"size": size, "color": color}}, **extra}

    return (  # bottom to top: MapLibre places the top layer's labels first
        layer(_subset(labels, lambda p: p["kind"] != "country" and p["rank"] > MAJOR_RANK), 10, "#3a3a3a",
              minzoom=CITY_MINZOOM),
        layer(_subset(labels, lambda p: p["kind"] != "country" and p["rank"] <= MAJOR_RANK), 11, "#1f1f1f"),
        layer(_subset(labels, lambda p: p["kind"] == "country"), 13, "#5b5346"),
    )
