"""Every page works in a real headless Chromium under the server's Content-Security-Policy, with no violation,
and no page of another origin can frame the app.

Violations are collected twice: the ``securitypolicyviolation`` events the
document fires (W3C CSP Level 3, section 5.3; listened for from before any
page script runs) and Chromium's console messages about the policy. Waits
use function predicates: Playwright evaluates a bare expression string with
``eval``, which the policy (rightly) refuses.
"""
from __future__ import annotations

import http.server
import threading

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.browser.test_map_live import MAP_READY, _wait_on_map
from tests.conftest import make_alert, payload, sign_in

pytestmark = pytest.mark.browser

LISTEN = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  [e.effectiveDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber, e.sample].join(' | ')));"""
#: Each page and an element that shows it has rendered its content (not only the frame).
PAGES = {"/": "#incident-map .js-plotly-plot", "/queue": "#queue", "/situation": "#sit-open-table",
         "/sharing": "#sharing-requests", "/audit": "#audit-table"}


def _watched_context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(LISTEN)
    console: list[str] = []
    context.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    return context, console


def test_csp001_every_page_signed_in_with_the_live_map_has_no_csp_violation(server, users, browser, redis_url):
    context, console = _watched_context(browser)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.wait_for_selector("input[name=username]")
    assert page.evaluate("() => window.__cspViolations") == []
    sign_in(page, server.url, users["admin-mk"])
    page.wait_for_selector("body[data-live=open]", state="attached", timeout=20_000)
    page.wait_for_function(MAP_READY, timeout=30_000)
    alert = make_alert(title="Seen under the policy", source="MK", releasable_to=["MK"])
    send_to_stream(redis.Redis.from_url(redis_url), Keys(server.prefix), [payload(alert)])
    _wait_on_map(page, [alert["id"]])  # the live map works: pushed, drawn
    found = {"/": page.evaluate("() => window.__cspViolations")}
    for path, ready in PAGES.items():
        policy = page.goto(f"{server.url}{path}").headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        page.wait_for_selector(ready, timeout=30_000)
        if path == "/":
            page.wait_for_function(MAP_READY, timeout=30_000)
        found[path] = page.evaluate("() => window.__cspViolations")
    assert all(v == [] for v in found.values()), found
    assert console == []
    # the control: the policy is in force and the listener hears it (an injected inline script does not run)
    ran = page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = true'; document.body.appendChild(s); return !!window.__injected; }""")
    assert ran is False
    assert [v for v in page.evaluate("() => window.__cspViolations") if v.startswith("script-src-elem")]
    context.close()


class _FramingPage(http.server.BaseHTTPRequestHandler):
    """A page on another origin (another port) that frames the app's queue."""

    target = ""

    def do_GET(self):  # noqa: N802  (http.server's name)
        body = (f'<!doctype html><iframe id="app" src="{self.target}/queue" width="800" height="600"'
                ' onload="document.body.dataset.framed = \'loaded\'"></iframe>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        """Keep the test's output free of the framing page's request log."""


def test_csp002_a_page_on_another_origin_cannot_frame_the_signed_in_app(server, users, browser):
    handler = type("Framing", (_FramingPage,), {"target": server.url})
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    context, console = _watched_context(browser)
    try:
        page = context.new_page()
        sign_in(page, server.url, users["duty-rs"], path="/queue")  # the session cookie is there to be used
        page.goto(f"http://127.0.0.1:{other.server_port}/")
        page.wait_for_selector("body[data-framed=loaded]", state="attached", timeout=20_000)
        frame = page.frame_locator("#app")
        assert frame.locator("#whoami").count() == 0
        child = next(f for f in page.frames if f != page.main_frame)
        assert not child.url.startswith(server.url), child.url  # Chromium shows its error page instead
        assert any("frame-ancestors" in text for text in console), console
    finally:
        context.close()
        other.shutdown()
        other.server_close()
