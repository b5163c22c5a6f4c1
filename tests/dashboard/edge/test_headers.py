"""Security headers on every response a real server gives: pages, sign-in, API, streams, static files, errors."""
from __future__ import annotations

import re

import httpx
import pytest
from starlette.testclient import TestClient

from dashboard.edge.headers import API_HTML_CSP, SecurityHeaders, content_security_policy
from tests.conftest import add_user

EXPECTED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin",
            "cross-origin-opener-policy": "same-origin"}


def _check(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers.get(name))
    policy = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'self'", response.request.url
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "blob:" in policy["worker-src"]
    assert "strict-transport-security" not in response.headers  # plain HTTP: no HSTS


@pytest.fixture(scope="module")
def viewer(app_server, redis_url):
    return add_user(redis_url, app_server.prefix, "duty-edg", "duty_officer", "RS")


def test_edg001_pages_sign_in_api_and_static_files_carry_the_headers(app_server, viewer):
    web = httpx.Client(base_url=app_server.url, headers=viewer.headers, timeout=10)
    page = web.get("/queue")
    assert page.status_code == 200 and "<html" in page.text.lower()
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page.text)
    assert scripts
    responses = [page, web.get("/"), web.get("/login"), web.get("/api/v1/alerts"), web.get("/api/v1/me"),
                 web.get("/assets/style.css"), web.get(scripts[0]), web.get("/_dash-layout"),
                 web.get("/api/v1/health")]
    assert [r.status_code for r in responses] == [200] * len(responses)
    anonymous = httpx.Client(base_url=app_server.url, timeout=10)
    responses += [anonymous.get("/api/v1/alerts"), anonymous.get("/queue", headers={"accept": "text/html"}),
                  web.get("/api/v1/alerts/no-such-alert"), web.get("/api/v1/no-such-route")]
    assert [r.status_code for r in responses[-4:]] == [401, 303, 404, 404]
    with web.stream("GET", "/live/alerts") as stream:
        assert stream.status_code == 200
        responses.append(stream)
    for response in responses:
        _check(response)


def test_edg002_a_refused_callback_request_carries_the_headers(app_server, viewer):
    response = httpx.post(f"{app_server.url}/_dash-update-component", json={"output": "x.children"},
                          headers=viewer.headers, timeout=10)
    assert response.status_code == 400  # no such callback: refused before Dash (dashboard/edge/jsonbody.py)
    _check(response)


def test_edg003_an_exception_nobody_answered_is_a_500_with_the_headers():
    async def broken(scope, receive, send):  # an ASGI app that fails before answering
        raise RuntimeError("a bug")

    app = SecurityHeaders(broken, content_security_policy(["'sha256-x'"]))
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500 and response.json() == {"detail": "internal error"}
    _check(response)


def test_edg004_a_route_keeps_its_own_stricter_policy(app_server, viewer):
    response = httpx.get(f"{app_server.url}/api/v1/sitrep", params={"format": "html"}, headers=viewer.headers,
                         timeout=10)
    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["dash/no-such-file.js", "no_such_package/x.js", "dash/deps/x.v1_0m1.js",
                                  "dash/..%2F..%2Fsetup.py", "plotly/package_data/%2E%2E/%2E%2E/setup.py"])
def test_edg005_a_bad_component_suite_path_is_a_404(app_server, path):
    response = httpx.get(f"{app_server.url}/_dash-component-suites/{path}", timeout=10)
    assert response.status_code == 404, response.text
    _check(response)


def test_edg010_behind_a_trusted_proxy_https_brings_hsts_and_secure_cookies(redis_url):
    """The proxy's X-Forwarded-Proto is applied inside the header middleware; it used to read the scheme
    before, so a TLS-terminating proxy got neither HSTS nor ``Secure`` on the sign-in cookie."""
    from tests.conftest import serve_in_process

    for trusted, expect in (("127.0.0.1", True), ("", False)):
        servers = serve_in_process(redis_url, trusted_proxies=trusted)
        server = next(servers)
        try:
            response = httpx.get(f"{server.url}/login", headers={"X-Forwarded-Proto": "https",
                                                                  "X-Forwarded-For": "203.0.113.9"}, timeout=10)
            assert response.status_code == 200
            assert ("strict-transport-security" in response.headers) is expect, trusted
            cookies = response.headers.get_list("set-cookie")
            assert cookies and all(("; secure" in c.lower()) is expect for c in cookies), cookies
        finally:
            servers.close()


NOT_PAGES = ["/live/nope", "/openapi.yaml", "/_dash-nope", "/apinope", "/nonexistent-page"]


@pytest.mark.parametrize("path", ["/api", "/api/v1", "/api//v1/me", "/api/v2/alerts", "/_dash-component-suites/",
                                  *NOT_PAGES])
@pytest.mark.parametrize("accept", ["text/html", "*/*"])
def test_edg011_paths_that_are_no_page_are_404_not_the_page_shell(app_server, viewer, path, accept):
    response = httpx.get(f"{app_server.url}{path}", headers={**viewer.headers, "Accept": accept}, timeout=10)
    assert response.status_code == 404 and "Dash" not in response.text, (path, response.text[:200])
    if accept == "text/html" and path in NOT_PAGES:  # answered by the edge as a page, marked like every page
        assert "Not found" in response.text and "UNCLASSIFIED" in response.text


@pytest.mark.parametrize("path", ["/", "/queue", "/audit", "/assets/style.css", "/openapi.json"])
def test_edg013_pages_routes_and_static_files_are_still_served(app_server, viewer, path):
    response = httpx.get(f"{app_server.url}{path}", headers={**viewer.headers, "Accept": "text/html"}, timeout=10)
    assert response.status_code == 200, (path, response.text[:200])


def test_edg014_the_site_icon_is_served_to_anyone(app_server):
    response = httpx.get(f"{app_server.url}/favicon.ico", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00" and "x-content-type-options" in response.headers


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_edg012_no_api_browser_that_would_load_from_a_cdn(app_server, viewer, path):
    """FastAPI's Swagger UI and ReDoc pages load their scripts from a CDN (refused by the CSP, unreachable
    air-gapped) and no installed package ships them: they are off; the description stays at /openapi.json."""
    response = httpx.get(f"{app_server.url}{path}", headers=viewer.headers, timeout=10)
    assert response.status_code == 404 and "cdn" not in response.text.lower(), (path, response.text[:200])
    described = httpx.get(f"{app_server.url}/openapi.json", headers=viewer.headers, timeout=10)
    assert described.status_code == 200 and "/api/v1/alerts" in described.json()["paths"]


def test_edg010_every_html_export_gets_the_strict_policy_never_the_pages_one(app_server, viewer):
    """The SITREP's and the AAR's HTML (an incident window's and an exercise's go through the same answer) are
    served with the exports' CSP: nothing may load or run, only their own styles (by hash) apply."""
    window = {"since": "2026-01-01T00:00:00+00:00", "until": "2026-01-02T00:00:00+00:00", "format": "html"}
    for path, params in (("/api/v1/sitrep", {"format": "html"}), ("/api/v1/aar", window)):
        response = httpx.get(f"{app_server.url}{path}", params=params, headers=viewer.headers, timeout=10)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
        policy = response.headers["content-security-policy"]
        assert policy.startswith("default-src 'none'; style-src ") and "script-src" not in policy, (path, policy)
        assert "frame-ancestors 'none'" in policy and "'self'" not in policy


def test_edg011_an_html_answer_under_the_api_without_its_own_policy_gets_the_strict_one():
    async def html_route(scope, receive, send):  # an API route answering HTML and forgetting its CSP
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<p>report</p>"})

    client = TestClient(SecurityHeaders(html_route, content_security_policy(["'sha256-x'"])))
    assert client.get("/api/v1/some/report").headers["content-security-policy"] == API_HTML_CSP
    assert "script-src 'self'" in client.get("/queue").headers["content-security-policy"]  # pages: theirs
