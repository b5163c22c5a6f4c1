"""The interface in every shipped language: no untranslated string on any page (drawn in a language of each
kind; the catalogue tests check every language's messages), the language chosen on the
page and kept with the user, ``Accept-Language`` as the default, and the map drawn in Serbian Cyrillic and
Greek with its place names.

The untranslated-string rule: a page is drawn in English and in the language under test for the same user
and data; a text (a text node, or a ``title``, ``aria-label``, ``placeholder`` or Plotly ``data-title``) that
is the same in both, holds a word, and is not content (inside ``[data-translate=no]``,
``dashboard.components.language.UNTRANSLATED``) is an untranslated string. Words that are the same in
every language (field terms, format names, codes) and messages a translator kept as they are on purpose
(a ``# identical`` comment in the catalogue) do not count.
"""
from __future__ import annotations

import os
import re

import pytest
import redis
from babel.messages.pofile import read_po

from alerts import i18n
from alerts.store.accounts import Accounts
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.browser.test_map_live import MAP_READY
from tests.conftest import add_user, block_outside, make_alert, payload, sign_in, wait_for

pytestmark = pytest.mark.browser

#: Which user draws which pages (each page is open to some role only).
PAGES = {"duty_officer": ("/", "/queue", "/situation", "/sharing", "/replay"),
         "exercise_control": ("/exercises", "/aar", "/evaluation"),
         "admin": ("/audit",)}
#: The page is drawn: Dash's content is in, no callback is loading.
SETTLED = ("() => { const c = document.getElementById('_pages_content');"
           " return !!c && c.children.length > 0 && !document.querySelector('[data-dash-is-loading]'); }")
#: The map's MapLibre canvas and Plotly's modebar are on the page (tiles and labels need not have loaded).
MAP_DRAWN = ("() => !!document.querySelector('#incident-map canvas.maplibregl-canvas')"
             " && !!document.querySelector('#incident-map .modebar-btn')")
#: Every text of the page people read, content aside (see the module docstring).
TEXTS = """() => {
  const skip = '[data-translate="no"], [translate="no"], script, style, noscript, #crisis-contract';
  const out = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.replace(/\\s+/g, ' ').trim();
    if (text && node.parentElement && !node.parentElement.closest(skip)) { out.add(text); }
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [data-title]')) {
    if (el.closest(skip)) { continue; }
    for (const name of ['title', 'aria-label', 'placeholder', 'data-title']) {
      const value = (el.getAttribute(name) || '').replace(/\\s+/g, ' ').trim();
      if (value) { out.add(name + '=' + value); }
    }
  }
  out.add('document.title=' + document.title);
  return Array.from(out);
}"""
#: Words the same in every language: field terms, formats, units and codes.
SAME_EVERYWHERE = {"UTC", "TLP", "CAP", "CoT", "TAK", "SITREP", "MSEL", "AAR", "STARTEX", "ENDEX", "CSV",
                   "GeoJSON", "HTML", "Markdown", "JSON", "KML", "PNG", "XLSX", "PDF", "ID", "EOD", "CBRN", "km",
                   "min", "ms", "OK", "Plotly", "Natural", "Earth", "OpenStreetMap", "ODbL", "Elastic", "Maps",
                   "Service", "WCAG", "ISO"}
WORD = re.compile(r"[^\W\d_]{2,}")


def _kept_on_purpose(tag: str) -> set[str]:
    """Messages the catalogue of ``tag`` keeps as in English on purpose (``# identical``)."""
    with i18n.catalogue_path(tag).open("rb") as po:
        catalog = read_po(po, locale=i18n.CLDR.get(tag, tag.replace("-", "_")))
    return {m.id for m in catalog if m.id and isinstance(m.id, str) and m.string == m.id
            and any("identical" in c for c in m.user_comments)}


def untranslated(english: set[str], other: set[str], kept: set[str]) -> list[str]:
    """The texts of ``other`` that are English still (see the module docstring)."""
    found = []
    for text in sorted(english & other):
        value = text.split("=", 1)[1] if text.split("=", 1)[0] in (
            "title", "aria-label", "placeholder", "data-title", "document.title") else text
        if value in kept:
            continue
        words = [w for w in WORD.findall(value) if w not in SAME_EVERYWHERE and not re.fullmatch(r"[A-Z]{2}", w)]
        if words:
            found.append(text)
    return found


@pytest.fixture(scope="module")
def polyglots(server, redis_url, browser):
    """Signed-in pages of three users (one per role of ``PAGES``) on a server with alerts, and the English
    texts of every page."""
    client = redis.Redis.from_url(redis_url)
    alerts = [make_alert(title="Bridge collapse on the E-75", severity="critical", type="natural_disaster",
                         source="RS", releasable_to=["ALL"]),
              make_alert(title="Drill: chemical spill", severity="high", type="hazmat", exercise=True,
                         releasable_to=["ALL"]),
              make_alert(title="Crowd at the crossing", severity="medium", type="civil_unrest", location=None,
                         releasable_to=["ALL"])]
    send_to_stream(client, Keys(server.prefix), [payload(a) for a in alerts])
    accounts = Accounts(client, Keys(server.prefix))
    sessions, contexts = {}, []
    for role in PAGES:
        user = add_user(redis_url, server.prefix, f"poly-{role.replace('_', '-')}", role, "RS")
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        sign_in(page, server.url, user, PAGES[role][-1])  # (on a page of the role's, not on the map)
        sessions[role] = (user, page)
    wait_for(lambda: {a["id"] for a in alerts} <= server.alert_ids(sessions["duty_officer"][0]), 30, "the alerts")
    english = {path: _texts(page, server.url, path) for role, (user, page) in sessions.items() for path in PAGES[role]}
    yield server, accounts, sessions, english
    for context in contexts:
        context.close()


def _texts(page, base: str, path: str) -> set[str]:
    page.goto(f"{base}{path}")
    page.wait_for_function(SETTLED, timeout=60_000)
    if path == "/":  # the map drawn (its canvas and modebar are texts too) and its list live
        page.wait_for_function(MAP_DRAWN, timeout=60_000)
        page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=60_000)
    return set(page.evaluate(TEXTS))


#: The languages the pages are drawn in for lan001, one of each kind: Cyrillic (sr-Cyrl), Greek (el), four plural
#: forms (sl), a fallback message by message (cnr, to Serbian Latin). A text the code does not pass through the
#: catalogue is English in every language alike, so any one language finds it; a message a language's catalogue
#: lacks, or leaves untranslated or fuzzy, is found for every shipped language without a browser
#: (``tests/alerts/i18n/test_catalogues.py``, cat003 and cat004).
DRAWN_IN = ("sr-Cyrl", "el", "sl", "cnr")


def test_lan000_the_languages_drawn_are_shipped_ones():
    from tests.alerts.i18n.test_catalogues import LANGUAGES

    assert set(DRAWN_IN) <= set(LANGUAGES)


@pytest.mark.parametrize("tag", DRAWN_IN)
def test_lan001_no_page_shows_an_untranslated_string_in_a_language_of_each_kind(polyglots, tag):
    server, accounts, sessions, english = polyglots
    kept = _kept_on_purpose(tag)
    found = {}
    try:
        for role, (user, page) in sessions.items():
            accounts.set_language(user.name, tag)
            for path in PAGES[role]:
                texts = _texts(page, server.url, path)
                assert page.evaluate("() => document.documentElement.lang") == tag
                left = untranslated(english[path], texts, kept)
                if left:
                    found[path] = left
    finally:
        for user, _page in sessions.values():
            accounts.set_language(user.name, "")
    assert found == {}, f"{tag}: untranslated strings: {found}"


def test_lan002_the_language_follows_the_browser_until_the_user_chooses_one_which_is_kept(server, redis_url,
                                                                                         browser):
    user = add_user(redis_url, server.prefix, "lang-chooser", "duty_officer", "ME")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="el-GR")
    try:
        page = context.new_page()
        sign_in(page, server.url, user, "/queue")
        assert page.evaluate("() => document.documentElement.lang") == "el"
        assert page.locator("#sign-out").inner_text() != "Sign out"
        page.click("#ui-language")
        page.get_by_role("option", name=i18n.display_name("sr-Cyrl")).click()
        page.wait_for_function("() => document.documentElement.lang === 'sr-Cyrl'", timeout=20_000)
        page.wait_for_selector("#whoami", timeout=20_000)
        assert re.search("[\u0400-\u04ff]", page.locator("nav").inner_text())  # Cyrillic
        accounts = Accounts(redis.Redis.from_url(redis_url), Keys(server.prefix))
        assert accounts.get_user("lang-chooser").language == "sr-Cyrl"
    finally:
        context.close()
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="tr-TR")
    try:  # another browser, another Accept-Language: the choice is the user's
        page = context.new_page()
        sign_in(page, server.url, user, "/queue")
        assert page.evaluate("() => document.documentElement.lang") == "sr-Cyrl"
        page.click("#ui-language")
        page.get_by_role("option", name=i18n.load("sr-Cyrl").translations.gettext("Language of the browser")).click()
        page.wait_for_function("() => document.documentElement.lang === 'tr'", timeout=20_000)
    finally:
        context.close()


def test_lan003_the_sign_in_page_speaks_the_browser_language(server, browser):
    context = browser.new_context(locale="mk-MK")
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login")
        assert page.evaluate("() => document.documentElement.lang") == "mk"
        assert page.locator("button[type=submit]").inner_text() != "Sign in"
    finally:
        context.close()


@pytest.mark.parametrize("tag", ["sr-Cyrl", "el"])
def test_lan004_the_map_in_serbian_cyrillic_and_greek_has_translated_ui_and_place_names(server, redis_url, browser,
                                                                                     tag, tmp_path):
    user = add_user(redis_url, server.prefix, f"map-{tag.lower()}", "duty_officer", "RS")
    Accounts(redis.Redis.from_url(redis_url), Keys(server.prefix)).set_language(user.name, tag)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    outside, _local = block_outside(context)
    try:
        page = context.new_page()
        sign_in(page, server.url, user)
        page.wait_for_function(MAP_READY, timeout=30_000)
        speak = i18n.load(tag).translations.gettext
        country = i18n.cldr_locale(tag).territories["RS"]  # Serbia, in the language
        names = page.wait_for_function(
            "wanted => { try { const m = document.querySelector('#incident-map .js-plotly-plot')._fullLayout.map"
            "._subplot.map; const ids = m.getStyle().layers.filter(l => l.type === 'symbol').map(l => l.id);"
            " const names = m.queryRenderedFeatures({layers: ids}).map(f => f.properties.name);"
            " return names.includes(wanted) ? names : false; } catch (e) { return false; } }",
            arg=country, timeout=30_000).json_value()
        assert country in names
        assert speak("Live map") in page.locator("nav").inner_text()
        shots = os.environ.get("CRISIS_SCREENSHOTS") or str(tmp_path)
        page.screenshot(path=f"{shots}/map-{tag}.png")
        assert outside == []
    finally:
        context.close()
