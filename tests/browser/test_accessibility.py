"""WCAG 2.2 AA by axe-core: every page, for every role, has no serious or critical violation.

axe-core comes from the npm registry (``package.json``; ``npm ci`` in the README's test command) and is
injected into each page by the test: it is never served by the app. The pages are checked with alerts on
them (a critical one, an exercise one, an unlocated one), at desktop size, with the live map's stream
open; the sign-in page signed out.
"""
from __future__ import annotations

import json

import pytest
import redis
from playwright.sync_api import TimeoutError as PlaywrightTimeout

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


def _sign_in(page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/login")
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
    user = add_user(seeded.redis_url, seeded.prefix, f"a11y-{role.replace('_', '-')}", role, "RS")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)  # (to inject axe)
    page = context.new_page()
    found = {}
    try:
        _sign_in(page, seeded.url, user.name, user.password)
        for path in PAGES:
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
