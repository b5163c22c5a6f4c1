"""Choosing a request's language, CLDR plural forms on both sides, the cnr -> sr-Latn fallback, content
alternatives in the viewer's language, and a broken catalogue stopping the load."""
from __future__ import annotations

import shutil

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from alerts import i18n
from alerts.i18n import terms


@pytest.fixture
def speak():
    tokens = []

    def _speak(tag):
        tokens.append(i18n.use(tag))

    yield _speak
    for token in reversed(tokens):
        i18n.reset(token)


@pytest.mark.parametrize(("header", "expected"), [
    ("sr", "sr-Cyrl"),  # CLDR likely subtags: Serbian is Cyrillic unless said otherwise
    ("sr-RS", "sr-Cyrl"),
    ("sr-ME", "sr-Latn"),  # ... and Latin in Montenegro
    ("sr-Latn-RS,sr;q=0.5", "sr-Latn"),
    ("sh", "sr-Latn"),
    ("cnr-ME", "cnr"),
    ("de-DE, el;q=0.5", "el"),
    ("el-GR;q=0.1, hr;q=0.9", "hr"),  # by weight, not by position
    ("hr;q=0, sl", "sl"),  # q=0 is "not acceptable"
    ("en-US,en;q=0.9", "en"),
    ("mk-MK", "mk"),
    ("tr-TR", "tr"),
    ("xx, *", "en"),
    ("", "en"),
    (None, "en"),
    ("hr;q=banana, ro", "ro"),
    ("," * 5000 + "bg", "en"),  # a giant header is read up to 1 KiB only
])
def test_lng001_the_browser_language_is_the_best_shipped_match(header, expected):
    assert i18n.negotiate(header) == expected


def test_lng002_tags_are_bcp47_and_the_request_language_is_a_context_variable(speak):
    assert "sr-SR" not in i18n.SHIPPED and {"sr-Cyrl", "sr-Latn", "cnr"} <= set(i18n.SHIPPED)
    assert i18n.current() == "en"
    speak("SR-LATN")
    assert i18n.current() == "sr-Latn"
    speak("klingon")
    assert i18n.current() == "en"


@pytest.mark.parametrize("tag", [t for t in i18n.SHIPPED if t != "en"])
def test_lng003_plural_forms_are_cldr_on_the_server(tag, speak):
    speak(tag)
    categories = i18n.plural_categories(tag)
    rule = i18n.cldr_locale(tag).plural_form
    plural = i18n.load(tag).translations.plural  # gettext's compiled Plural-Forms
    for n in range(0, 125):
        assert categories[plural(n)] == rule(n), (tag, n)


def test_lng004_slovenian_has_four_forms_and_serbian_three():
    assert i18n.plural_categories("sl") == ["one", "two", "few", "other"]
    assert i18n.plural_categories("sr-Cyrl") == ["one", "few", "other"]
    assert i18n.plural_categories("cnr") == ["one", "few", "other"]
    assert i18n.plural_categories("tr") == ["one", "other"]


def test_lng005_numbers_and_country_names_follow_the_language(speak):
    speak("hr")
    assert i18n.number(1234.5, 1) == "1.234,5"
    assert terms.country("MK") == "Sjeverna Makedonija"
    speak("el")
    assert terms.country("XK") == "Κοσσυφοπέδιο"
    speak("en")
    assert i18n.number(1234.5, 1) == "1,234.5" and terms.country("ME") == "Montenegro"
    assert terms.country("") == "" and terms.severity("unheard_of") == "unheard of"


def test_lng006_a_content_alternative_in_the_viewer_language_is_found(speak):
    offered = ["en-US", "sr-Latn-RS", "el-GR", "mk"]
    speak("el")
    assert i18n.best_match(offered) == 2
    speak("sr-Latn")
    assert i18n.best_match(offered) == 1
    speak("sr-Cyrl")  # Serbian Latin is the same language: better than English
    assert i18n.best_match(offered) == 1
    speak("tr")
    assert i18n.best_match(offered) is None
    speak("cnr")  # Montenegrin: Serbian Latin (its fallback), not English
    assert i18n.best_match(["en-US", "sr-Latn-ME"]) == 1 and i18n.best_match(offered) == 1


def _broken_catalogues(tmp_path, monkeypatch, forms):
    folder = tmp_path / "catalogues"
    shutil.copytree(i18n.CATALOGUES, folder)
    catalog = Catalog(locale="hr")
    catalog._num_plurals, catalog._plural_expr = forms  # noqa: SLF001
    catalog.add("Sign out", "Odjava")
    with (folder / "hr.po").open("wb") as out:
        write_po(out, catalog)
    monkeypatch.setattr(i18n, "CATALOGUES", folder)
    i18n.load.cache_clear()


def test_lng007_a_catalogue_whose_plural_forms_are_not_cldr_is_refused(tmp_path, monkeypatch):
    _broken_catalogues(tmp_path, monkeypatch, (2, "(n != 1)"))  # English plurals for Croatian
    try:
        with pytest.raises(i18n.CatalogueError, match="hr.po: Plural-Forms"):
            i18n.load_all()
    finally:
        i18n.load.cache_clear()


def test_lng008_cnr_falls_back_to_serbian_latin_message_by_message(tmp_path, monkeypatch, speak):
    folder = tmp_path / "catalogues"
    shutil.copytree(i18n.CATALOGUES, folder)
    forms = i18n.plural_forms("cnr")
    for tag, entries in (("cnr", {"Language": ""}), ("sr-Latn", {"Language": "Jezik", "Sign out": "Odjavi se"})):
        catalog = Catalog(locale=i18n.CLDR[tag])
        catalog._num_plurals = int(forms.split(";")[0].split("=")[1])  # noqa: SLF001
        catalog._plural_expr = forms.split("plural=", 1)[1].rstrip(";")  # noqa: SLF001
        for msgid, msgstr in entries.items():
            catalog.add(msgid, msgstr, locations=[("assets/alarm.js", 1)])
        with (folder / f"{tag}.po").open("wb") as out:
            write_po(out, catalog)
    monkeypatch.setattr(i18n, "CATALOGUES", folder)
    i18n.load.cache_clear()
    try:
        speak("cnr")
        assert i18n.gettext("Sign out") == "Odjavi se"
        assert i18n.browser_catalogue()["messages"]["Sign out"] == "Odjavi se"
        assert i18n.browser_catalogue()["cldr"] == "sr-Latn-ME"
        assert i18n.gettext("Not in any catalogue") == "Not in any catalogue"
    finally:
        i18n.load.cache_clear()


def test_lng009_an_alert_is_shown_in_the_viewer_language_when_it_carries_it(speak):
    from alerts.i18n.content import localized

    translations = {"el-GR": {"title": "Σεισμός", "description": "Μεγάλος σεισμός."},
                    "sr-Latn": {"title": "Zemljotres", "description": ""}}
    speak("el")
    assert localized("Earthquake", "A strong one.", translations, "en-US") == ("Σεισμός", "Μεγάλος σεισμός.", "el-GR")
    speak("sr-Cyrl")
    assert localized("Earthquake", "A strong one.", translations, "en-US") == ("Zemljotres", "", "sr-Latn")
    speak("en")
    assert localized("Earthquake", "A strong one.", translations, "en-US") == ("Earthquake", "A strong one.", "en-US")
    speak("tr")  # none carried: the main block as it came
    assert localized("Earthquake", "A strong one.", translations, "en-US")[0] == "Earthquake"
    speak("el")  # the main block is Greek already
    assert localized("Σεισμός", "x", {"en": {"title": "Earthquake"}}, "el")[0] == "Σεισμός"
    assert localized("Quake", "", None, "")[0] == "Quake"


def test_lng010_capitals_follow_the_language_greek_drops_the_tonos(speak):
    speak("el")
    assert i18n.upper("κρίσιμη") == "ΚΡΙΣΙΜΗ" and i18n.upper("υψηλή") == "ΥΨΗΛΗ"
    assert i18n.upper("προϊόν") == "ΠΡΟΪΟΝ"  # the dialytika stays
    speak("hr")
    assert i18n.upper("kritična") == "KRITIČNA"
