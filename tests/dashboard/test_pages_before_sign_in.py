"""The pages served before (or outside) authentication speak the browser's language: the sign-in form and its
refusals (``dashboard.auth.login``), the 404 page (``dashboard.edge.notfound``) and the degraded-mode page
(``dashboard.degraded``) choose it from ``Accept-Language`` (``alerts.i18n.negotiate``), say so in
``<html lang>``, and mark the classification banners as never translated (``translate="no"``)."""
from __future__ import annotations

import re

import httpx

from dashboard.degraded import DegradedMiddleware
from dashboard.outage import Outage
from tests.conftest import run_async

LANG = re.compile(r'<html lang="([^"]+)"')
BANNER = re.compile(r'id="degraded-banner"[^>]*>Live data unavailable since \d\d:\d\d UTC, retrying<')


def _marked(text: str) -> bool:
    banners = re.findall(r'<div class="classification [^"]*"[^>]*>', text)
    return len(banners) == 2 and all('translate="no"' in b and 'data-translate="no"' in b for b in banners)


def test_pbs001_the_sign_in_form_speaks_the_browsers_language_and_english_by_default(app_server):
    hr = httpx.get(app_server.url + "/login", headers={"Accept-Language": "hr-HR,hr;q=0.9,en;q=0.5"}, timeout=10)
    assert hr.status_code == 200 and LANG.search(hr.text).group(1) == "hr" and _marked(hr.text)
    other = httpx.get(app_server.url + "/login", headers={"Accept-Language": "de-DE, fr;q=0.8"}, timeout=10)
    assert LANG.search(other.text).group(1) == "en" and _marked(other.text)
    assert "<title>Sign in · Crisis dashboard</title>" in other.text and "User name" in other.text


def test_pbs002_a_refused_sign_in_answers_in_the_browsers_language_from_the_sign_in_pool(app_server):
    """The check runs in the sign-ins' own thread pool, outside the request's context: the language goes with it."""
    refused = httpx.post(app_server.url + "/login", data={"username": "x", "password": "y", "csrf": "forged"},
                         headers={"Accept-Language": "sr-ME"}, timeout=10)
    assert refused.status_code == 403 and LANG.search(refused.text).group(1) == "sr-Latn"
    english = httpx.post(app_server.url + "/login", data={"username": "x", "password": "y", "csrf": "forged"},
                         timeout=10)
    assert LANG.search(english.text).group(1) == "en" and "The form expired; please sign in again." in english.text


def test_pbs003_the_not_found_page_speaks_the_browsers_language(app_server):
    bg = httpx.get(app_server.url + "/nonexistent-page", headers={"Accept": "text/html", "Accept-Language": "bg"},
                   timeout=10)
    assert bg.status_code == 404 and LANG.search(bg.text).group(1) == "bg" and _marked(bg.text)
    en = httpx.get(app_server.url + "/nonexistent-page", headers={"Accept": "text/html"}, timeout=10)
    assert LANG.search(en.text).group(1) == "en" and "There is no page at this address." in en.text


def _degraded_page(accept_language: str | None) -> tuple[int, str]:
    """A page request through ``DegradedMiddleware`` while its ``Outage`` is on (the app behind it is never
    reached): the status and the HTML answered."""
    outage = Outage()
    outage.failed("test: Redis away")
    answer: dict = {}

    async def unreachable(scope, receive, send):
        raise AssertionError("the app is not asked while Redis is away")

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] = message["body"].decode()

    headers = [(b"accept", b"text/html")] + ([(b"accept-language", accept_language.encode())]
                                             if accept_language else [])
    scope = {"type": "http", "method": "GET", "path": "/queue", "headers": headers}
    run_async(lambda: DegradedMiddleware(unreachable, outage, retry_after=1, marking="UNCLASSIFIED")(scope, None, send))
    return answer["status"], answer["body"]


def test_pbs004_the_degraded_page_speaks_the_browsers_language_english_as_before():
    status, el = _degraded_page("el-GR")
    assert status == 503 and LANG.search(el).group(1) == "el" and _marked(el)
    status, en = _degraded_page(None)
    assert status == 503 and LANG.search(en).group(1) == "en" and BANNER.search(en) and _marked(en)
    assert "This page tries again every 1 second and comes back by itself." in en
