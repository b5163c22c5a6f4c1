"""WCAG 2.2 AA by axe-core: every page, for every role, has no serious or critical violation.

axe-core comes from the npm registry (``package.json``; ``npm ci`` in the README's test command) and is
injected into each page by the test: it is never served by the app. The pages are checked with alerts on
them (a critical one, an exercise one, an unlocated one), at desktop size, with the live map's stream
open; the sign-in page signed out.
"""
from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
import redis
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from alerts.store.accounts import Accounts
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import ROOT, add_user, make_alert, payload, wait_for

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ("/", "/queue", "/situation", "/sharing", "/exercises", "/replay", "/aar", "/evaluation", "/audit")
ROLES = ("duty_officer", "responder", "leadership", "admin", "auditor", "exercise_control", "evaluator")
#: WCAG 2.0, 2.1 and 2.2, levels A and AA (axe-core's tags).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: The page is drawn: Dash's content is in, no callback is loading.
SETTLED = ("() => { const c = document.getElementById('_pages_content');"
           " return !!c && c.children.length > 0 && !document.querySelector('[data-dash-is-loading]'); }")


def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: run `npm ci` in the project's root ({AXE.relative_to(ROOT)})")
    return AXE.read_text(encoding="utf-8")


def _serious(page) -> list[dict]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_axe_source())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", TAGS)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def seeded(server, redis_url):
    client = redis.Redis.from_url(redis_url)
    alerts = [make_alert(title="Critical, awaiting acknowledgment", severity="critical", source="RS",
                         releasable_to=["ALL"]),
              make_alert(title="An exercise inject", severity="high", exercise=True, releasable_to=["ALL"]),
              make_alert(title="Unlocated", location=None, releasable_to=["ALL"])]
    send_to_stream(client, Keys(server.prefix), [payload(a) for a in alerts])
    user = add_user(server.redis_url, server.prefix, "a11y-seed", "admin", "RS")
    wait_for(lambda: {a["id"] for a in alerts} <= server.alert_ids(user), 30, "the seeded alerts")
    return server


def _sign_in(page, base: str, name: str, password: str, path: str = "") -> None:
    """Through the sign-in form, landing on ``path`` (its request asks for the sign-in first), else on the map."""
    page.goto(f"{base}{path}" if path else f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url, timeout=20_000)


def test_a11y001_the_sign_in_page_has_no_serious_violation(seeded, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)  # (to inject axe)
    page = context.new_page()
    try:
        page.goto(f"{seeded.url}/login")
        assert _serious(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("role", ROLES)
def test_a11y002_every_page_for_the_role_has_no_serious_violation(seeded, browser, role):
    """Every page the role may open, and the refusal of one it may not."""
    user = add_user(seeded.redis_url, seeded.prefix, f"a11y-{role.replace('_', '-')}", role, "RS")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)  # (to inject axe)
    page = context.new_page()
    found = {}
    try:
        _sign_in(page, seeded.url, user.name, user.password)
        # The pages the role may open (its navigation) and one it may not: a refusal is one short text in
        # the same frame on every page (``className="page-body denied"``), so one is checked per role.
        page.wait_for_selector("header nav a", timeout=30_000)
        allowed = set(page.eval_on_selector_all("header nav a", "links => links.map(a => new URL(a.href).pathname)"))
        for path in [p for p in PAGES if p in allowed] + [p for p in PAGES if p not in allowed][:1]:
            if urlparse(page.url).path != path:  # (the sign-in lands on the map: not drawn twice)
                page.goto(f"{seeded.url}{path}")
            try:
                page.wait_for_function(SETTLED, timeout=60_000)  # (the map's first figure takes long under load)
            except PlaywrightTimeout:
                pytest.fail(f"{path} did not settle for {role} (at {page.url}: "
                            f"{page.evaluate('() => document.body.innerText.slice(0, 200)')!r}): " + page.evaluate(
                    "() => (document.getElementById('_pages_content') ? 'loading: ' : 'no page content; ') + "
                    "Array.from(document.querySelectorAll('[data-dash-is-loading]')).map(e => e.id || e.className)"
                    ".join(', ')"))
            if path == "/":
                page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
            violations = _serious(page)
            if violations:
                found[path] = violations
    finally:
        context.close()
    assert found == {}, json.dumps(found, indent=1)


#: Where Tab leaves the focus: its id, whether it shows a focus ring (:focus-visible and an outline of 2 px at least).
FOCUSED = ("() => { const a = document.activeElement, s = getComputedStyle(a);"
           " return [a.id, a.matches(':focus-visible') && s.outlineStyle !== 'none'"
           " && parseFloat(s.outlineWidth) >= 2]; }")
DROPDOWNS = ("ui-language", "filter-type", "filter-country", "coverage-capability")


def _tab_to(page, target: str, limit: int = 60) -> bool:
    """Press Tab until the element with id ``target`` has the focus; whether its focus ring shows."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused, ring = page.evaluate(FOCUSED)
        if focused == target:
            return ring
    raise AssertionError(f"Tab never reached #{target} in {limit} presses")


#: What the page looks like to the language chooser (for a failure's message).
LANGUAGE_STATE = """() => ({url: location.href, menu: !!document.querySelector('.dash-dropdown-content'),
  focus: document.activeElement && (document.activeElement.id || document.activeElement.tagName),
  value: document.activeElement && document.activeElement.value, lang: document.documentElement.lang})"""


def _choose_language_by_keyboard(page) -> str:
    """Focus the language chooser, open it with Enter, go down past "browser" and English, press Enter: the
    language tag chosen."""
    page.focus("#ui-language")
    page.wait_for_function("() => !!document.activeElement && !!document.activeElement.closest('#ui-language')")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.closest('.dash-dropdown-content')")
    while page.evaluate("() => ['browser', 'en'].includes(document.activeElement.value)"):
        page.keyboard.press("ArrowDown")
    tag = page.evaluate("() => document.activeElement.value")
    page.keyboard.press("Enter")
    return tag


def _stored(accounts, name: str, tag: str, seconds: float) -> bool:
    try:
        wait_for(lambda: accounts.get_user(name).language == tag, seconds, "the chosen language stored")
    except AssertionError:
        return False
    return True


def test_a11y003_every_dropdown_is_reached_and_operated_by_keyboard(seeded, browser):
    """Dash 4 draws a dropdown's trigger with tabindex -1 (assets/a11y.js puts it in the tab order): from the
    top of the map page Tab reaches each dropdown, which opens with Enter and chooses with arrows and Enter;
    a language chosen so reloads the page in it."""
    user = add_user(seeded.redis_url, seeded.prefix, "a11y-keyboard", "duty_officer", "RS")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    accounts = Accounts(redis.Redis.from_url(seeded.redis_url), Keys(seeded.prefix))
    try:
        _sign_in(page, seeded.url, user.name, user.password)
        page.wait_for_function(SETTLED, timeout=60_000)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        for target in DROPDOWNS:
            assert _tab_to(page, target), f"#{target} has the focus without a visible focus ring"

        page.focus("#filter-type")
        page.keyboard.press("Enter")
        page.wait_for_selector(".dash-dropdown-content")
        page.wait_for_function("() => document.activeElement.closest('.dash-dropdown-content')")
        while page.evaluate("() => document.activeElement.type === 'search'"):  # (past the search box)
            page.keyboard.press("ArrowDown")
        chosen = page.evaluate("() => document.activeElement.value")
        page.keyboard.press("Enter")
        page.wait_for_function("v => document.getElementById('filter-type-value').textContent.trim() !== ''"
                               " && !document.getElementById('filter-type-value')"
                               ".classList.contains('dash-dropdown-placeholder')", arg=chosen)
        page.keyboard.press("Escape")

        # the filter's rebuild of the map done (a full run once pressed Enter while it was still drawing, and
        # the menu never opened), the trigger focused, then Enter
        page.wait_for_function(SETTLED, timeout=60_000)
        page.evaluate("() => { window.__beforeLanguage = true; }")
        tag, seen = _choose_language_by_keyboard(page), []
        if not _stored(accounts, user.name, tag, 20):
            # (a loaded full run once saw the page navigate as Enter was pressed and the choice never sent;
            # a person would choose again, and so does the test, once, keeping what it saw for the message)
            seen.append(page.evaluate(LANGUAGE_STATE))
            page.wait_for_function(SETTLED, timeout=60_000)
            tag = _choose_language_by_keyboard(page)
        assert _stored(accounts, user.name, tag, 40), f"the chosen language {tag!r} was never stored: {seen}"
        # the page reloads once the choice is stored: a new document, in the language chosen
        page.wait_for_function("tag => window.__beforeLanguage === undefined && document.documentElement.lang === tag",
                               arg=tag, timeout=60_000)
    finally:
        accounts.set_language(user.name, "")
        context.close()


#: The contrast ratio of an element's text with what is behind it (the first ancestor's opaque background).
CONTRAST = """el => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  let back = el;
  while (back && (getComputedStyle(back).backgroundColor === 'transparent'
                  || rgb(getComputedStyle(back).backgroundColor)[3] === 0)) { back = back.parentElement; }
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(getComputedStyle(back || document.body).backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_a11y004_the_language_chooser_and_its_menu_are_readable(seeded, browser):
    """The chooser sits in the dark top bar, whose white text its value and options must not inherit."""
    user = add_user(seeded.redis_url, seeded.prefix, "a11y-contrast", "duty_officer", "RS")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, seeded.url, user.name, user.password)
        page.wait_for_function(SETTLED, timeout=60_000)
        assert page.eval_on_selector("#ui-language-value", CONTRAST) >= 4.5
        page.click("#ui-language")
        page.wait_for_selector(".language-chooser .dash-dropdown-option")
        ratios = page.eval_on_selector_all(".language-chooser .dash-dropdown-option",
                                           f"(options) => options.map({CONTRAST})")
        assert ratios and min(ratios) >= 4.5, ratios
    finally:
        context.close()


#: Which user opens which pages (each page is open to some role only).
ROLE_PAGES = {"duty_officer": ("/", "/queue", "/situation", "/sharing", "/replay"),
              "exercise_control": ("/exercises", "/aar", "/evaluation"),
              "admin": ("/audit",)}


@pytest.mark.parametrize("tag", ("el", "ro"))
def test_a11y005_no_page_is_wider_than_a_phone_in_long_worded_languages(seeded, browser, tag):
    """At 390x844, in languages with long words, no page is wider than the screen (WCAG 1.4.10 reflow) and
    the alarm strip's sound button shows its whole text."""
    accounts = Accounts(redis.Redis.from_url(seeded.redis_url), Keys(seeded.prefix))
    found = {}
    for role, paths in ROLE_PAGES.items():
        user = add_user(seeded.redis_url, seeded.prefix, f"a11y-phone-{tag}-{role.replace('_', '-')}", role, "RS")
        accounts.set_language(user.name, tag)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            _sign_in(page, seeded.url, user.name, user.password, paths[0])  # (not on the map when it is not one)
            for path in paths:
                if urlparse(page.url).path != path:
                    page.goto(f"{seeded.url}{path}")
                page.wait_for_function(SETTLED, timeout=60_000)
                assert page.evaluate("() => document.documentElement.lang") == tag
                width = page.evaluate("() => document.documentElement.scrollWidth")
                clipped = page.eval_on_selector("#mute-sound", "b => b.scrollWidth > b.clientWidth + 1"
                                                               " || b.scrollHeight > b.clientHeight + 1")
                if width > 390 or clipped:
                    found[path] = {"scrollWidth": width, "sound button clipped": clipped}
        finally:
            context.close()
    assert found == {}, found
