"""Place names of the base map: what is named, and that nothing names an outside resource."""
from __future__ import annotations

import json

from layers.basemap import SHIPPED_ASSETS, boundary_layers, labelled_style
from layers.labels import DEFAULT_FONT, FONT_FILES, MICROSTATES, font_faces, label_layers, label_points


def test_lbl001_every_core_country_and_capital_is_named_and_no_microstate():
    names = {f["properties"]["name"]: f["properties"]["kind"] for f in label_points(SHIPPED_ASSETS)["features"]}
    for country in ("Serbia", "Croatia", "Bosnia and Herzegovina", "North Macedonia", "Kosovo", "Greece", "Slovenia"):
        assert names[country] == "country"
    for capital in ("Belgrade", "Zagreb", "Ljubljana", "Sarajevo", "Skopje", "Pristina", "Podgorica", "Athens"):
        assert names[capital] == "capital"
    assert not {"San Marino", "Vatican"} & set(names) and MICROSTATES == {"SM", "VA"}
    assert "Rome" not in names  # the neighbours' cities are left out


def test_lbl002_fonts_are_shipped_files_under_the_assets_url_and_cover_each_script():
    faces = font_faces("/app/assets/")[DEFAULT_FONT]
    assert [f["url"] for f in faces] == [f"/app/assets/fonts/{name}" for name in FONT_FILES]
    assert all((SHIPPED_ASSETS / "fonts" / name).stat().st_size > 1000 for name in FONT_FILES)
    ranges = " ".join(r for f in faces for r in f["unicode-range"])
    for letter in "ŠđĂșΑЖ":  # Latin Extended, Greek, Cyrillic
        code = ord(letter)
        assert any(int(a, 16) <= code <= int(b or a, 16)
                   for a, _, b in (r.removeprefix("U+").partition("-") for r in ranges.split())), letter


def test_lbl003_no_style_or_layer_names_a_glyph_server_a_sprite_or_an_icon():
    style = labelled_style("/assets/")
    assert "glyphs" not in style and "sprite" not in style
    layers = label_layers(SHIPPED_ASSETS)
    assert all(layer["symbol"]["icon"] == "" for layer in layers)  # a named icon is fetched from a CDN
    base = json.dumps([style, boundary_layers("/assets/"), layers])
    assert "http" not in base and "glyphs" not in base  # nothing outside the server


def test_lbl004_country_names_follow_the_viewer_language_cities_keep_theirs():
    from alerts import i18n
    from layers.basemap import SHIPPED_ASSETS
    from layers.labels import label_layers

    def names(language):
        token = i18n.use(language)
        try:
            layers = label_layers(SHIPPED_ASSETS)
        finally:
            i18n.reset(token)
        return {f["properties"]["name"] for layer in layers for f in layer["source"]["features"]}

    english, greek, cyrillic = names("en"), names("el"), names("sr-Cyrl")
    assert {"Serbia", "Greece"} <= english
    assert {"Σερβία", "Ελλάδα"} <= greek and "Serbia" not in greek
    assert {"Србија", "Грчка"} <= cyrillic
    assert "Beograd" in english & greek or "Belgrade" in english & greek  # a city keeps its name
