"""Place names on the base map, drawn from the shipped fonts with every outside request blocked."""
from __future__ import annotations

import json
import os

import pytest

from layers.basemap import SHIPPED_ASSETS
from layers.labels import label_points
from tests.browser.test_map_live import GRAPH, MAP_READY
from tests.conftest import block_outside, sign_in

pytestmark = pytest.mark.browser

KINDS = {f["properties"]["name"]: f["properties"]["kind"] for f in label_points(SHIPPED_ASSETS)["features"]}


def kind_of(name: str) -> str:
    return KINDS.get(name, "")

#: The names MapLibre has placed on screen (symbol layers only), once every name of ``wanted`` is among them
#: (the country and city layers are placed in separate passes: waiting on a count alone saw only the cities).
RENDERED_NAMES = (
    f"wanted => {{ try {{ const g = document.querySelector('{GRAPH}'); const m = g._fullLayout.map._subplot.map;"
    " const ids = m.getStyle().layers.filter(l => l.type === 'symbol').map(l => l.id);"
    " const names = Array.from(new Set(m.queryRenderedFeatures({layers: ids}).map(f => f.properties.name)));"
    " return wanted.every(n => names.includes(n)) && names.some(n => CAPITALS.includes(n)) ? names : false;"
    " } catch (e) { return false; } }"
)
COUNTRIES = ["Serbia", "Croatia", "Bulgaria", "Greece"]
#: (and at least one capital: the city layer is placed after the countries)

#: The font faces MapLibre registered for drawing text, with their load status.
FONT_FACES = "() => Array.from(document.fonts).filter(f => f.family.startsWith('maplibre-gl-font-face')).map(f => f.status)"


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_lab001_country_and_city_names_render_from_shipped_fonts_with_the_network_blocked(server, users, browser,
                                                                                          size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    outside, local = block_outside(context)
    warnings: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: warnings.append(message.text) if message.type in ("warning", "error")
            else None)
    sign_in(page, server.url, users["duty-rs"])
    page.wait_for_function(MAP_READY, timeout=30_000)
    # (a label that would collide with one placed before it is left out: at phone size, most city names)
    capitals = [n for n, kind in KINDS.items() if kind == "capital"]
    names = page.wait_for_function(RENDERED_NAMES.replace("CAPITALS", json.dumps(capitals)), arg=COUNTRIES,
                                   timeout=30_000).json_value()
    assert set(COUNTRIES) <= set(names), names
    assert any(kind_of(name) == "capital" for name in names), names
    assert "loaded" in page.evaluate(FONT_FACES)  # drawn with a shipped face, not a system font
    assert any(url.endswith(".woff2") and "/assets/fonts/" in url for url in local)
    assert outside == []
    if os.environ.get("CRISIS_SCREENSHOTS"):  # a directory: keep what the page looked like, for review
        page.screenshot(path=f"{os.environ['CRISIS_SCREENSHOTS']}/map-labels-{size[0]}.png")
    assert not [w for w in warnings if "glyph" in w.lower() or "font face" in w.lower() or "Image" in w], warnings
    context.close()
