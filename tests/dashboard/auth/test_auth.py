"""Sign-in, tokens, CSRF, throttling, audit and releasability, against a running server on real Redis."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import quote

import httpx
import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import ROOT, add_user, make_alert, payload, wait_for


def _web_session(server, user) -> httpx.Client:
    """A browser-like client signed in through the real /login form."""
    web = httpx.Client(base_url=server.url, timeout=10, follow_redirects=False)
    form = web.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = web.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf, "next": "/"})
    assert response.status_code == 303, response.text
    return web


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


PROTECTED_GETS = ["/api/v1/alerts", "/api/v1/alerts/anything", "/api/v1/summary", "/api/v1/me", "/api/v1/audit",
                  "/live/alerts", "/openapi.json", "/docs", "/_dash-layout", "/_dash-dependencies", "/", "/audit"]


@pytest.mark.parametrize("path", PROTECTED_GETS)
def test_aut001_every_route_rejects_an_unauthenticated_caller(server, path):
    response = httpx.get(f"{server.url}{path}", timeout=10)
    assert response.status_code == 401, (path, response.status_code)
    page = httpx.get(f"{server.url}{path}", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code in (401, 303)
    if page.status_code == 303:
        assert page.headers["location"].startswith("/login")
    bad_token = httpx.get(f"{server.url}{path}", headers={"Authorization": "Bearer cdt_x_forged"}, timeout=10)
    assert bad_token.status_code == 401


def test_aut002_every_dash_callback_rejects_an_unauthenticated_caller(server, users):
    web = _web_session(server, users["duty-rs"])
    callbacks = web.get("/_dash-dependencies").json()
    assert len(callbacks) >= 2
    for spec in callbacks:
        body = {"output": spec["output"], "outputs": [], "inputs": [], "changedPropIds": []}
        anonymous = httpx.post(f"{server.url}/_dash-update-component", json=body, timeout=10)
        assert anonymous.status_code == 401, spec["output"]


def test_aut003_health_is_open_and_login_page_shows_the_banner(server):
    assert httpx.get(f"{server.url}/api/v1/health", timeout=5).status_code == 200
    login = httpx.get(f"{server.url}/login", timeout=5)
    assert login.status_code == 200 and "UNCLASSIFIED" in login.text and 'name="password"' in login.text


def test_aut004_state_changing_requests_need_the_csrf_token(server, users):
    web = _web_session(server, users["duty-rs"])
    csrf = web.cookies.get("_csrf_token")
    assert csrf
    spec = web.get("/_dash-dependencies").json()[0]
    body = {"output": spec["output"], "outputs": [], "inputs": [], "changedPropIds": []}
    refused = web.post("/_dash-update-component", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.text
    forged = web.post("/_dash-update-component", json=body, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 403
    accepted = web.post("/_dash-update-component", json=body, headers={"X-CSRFToken": csrf})
    assert accepted.status_code != 403 and accepted.status_code != 401
    assert web.post("/logout").status_code == 403
    assert web.post("/logout", headers={"X-CSRFToken": csrf}).status_code == 204
    assert web.get("/api/v1/me").status_code == 401  # the session is gone


def test_aut005_session_cookie_is_httponly_and_samesite(server, users):
    web = httpx.Client(base_url=server.url, timeout=10)
    form = web.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = web.post("/login", data={"username": users["resp-gr"].name, "password": users["resp-gr"].password,
                                        "csrf": csrf})
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("crisis_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session
    assert web.get("/api/v1/me").json()["name"] == users["resp-gr"].name


def test_aut006_login_needs_its_form_token(server, users):
    user = users["resp-gr"]
    response = httpx.post(f"{server.url}/login", data={"username": user.name, "password": user.password}, timeout=10)
    assert response.status_code == 403


def test_aut007_repeated_failures_are_throttled(server, redis_url):
    user = add_user(redis_url, server.prefix, "throttled-user", "responder", "SI")
    web = httpx.Client(base_url=server.url, timeout=10)

    def attempt(password: str) -> int:
        csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
        return web.post("/login", data={"username": user.name, "password": password, "csrf": csrf}).status_code

    assert [attempt("wrong-password") for _ in range(5)] == [401] * 5
    assert attempt(user.password) == 429  # even the right password, until the window passes


def test_aut008_no_password_or_token_is_stored_in_clear(server, users, redis_url):
    client = redis.Redis.from_url(redis_url)
    secrets = [u.password for u in users.values()] + [u.token for u in users.values()]
    dump = []
    for key in client.scan_iter(match=f"{server.prefix}:*"):
        kind = client.type(key)
        if kind == b"string":
            dump.append(client.get(key))
        elif kind == b"hash":
            dump.extend(v for pair in client.hgetall(key).items() for v in pair)
        elif kind == b"set":
            dump.extend(client.smembers(key))
        elif kind == b"stream":
            dump.extend(v for _, fields in client.xrange(key) for pair in fields.items() for v in pair)
    blob = b"\n".join(d if isinstance(d, bytes) else str(d).encode() for d in dump)
    assert blob  # we did read the stored data
    for secret in secrets:
        assert secret.encode() not in blob
    stored_hash = client.hget(Keys(server.prefix).user("duty-rs"), "password")
    assert stored_hash.startswith(b"$argon2")


def test_aut009_cli_users_tokens_and_the_audit_trail(server, users, redis_url):
    common = ["--redis-url", redis_url, "--prefix", server.prefix]
    added = _cli("user", "add", "cli-officer", "--role", "duty_officer", "--nation", "BG", "--password-stdin",
                 *common, stdin="a-long-password-1\n")
    assert added.returncode == 0, added.stderr
    listed = _cli("user", "list", *common)
    assert re.search(r"cli-officer\s+duty_officer\s+BG\s+UNCLASSIFIED\s+active", listed.stdout)
    created = _cli("token", "create", "cli-officer", *common)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    token_id = re.search(r"token (\w+) for", created.stdout).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=5).json()["nation"] == "BG"
    assert _cli("token", "revoke", token_id, *common).returncode == 0
    assert httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=5).status_code == 401
    _, token2 = _cli("token", "create", "cli-officer", *common).stdout.strip().rsplit("\n", 1)
    assert _cli("user", "disable", "cli-officer", *common).returncode == 0
    assert httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token2}"}, timeout=5).status_code == 401
    assert _cli("user", "add", "x", "--role", "king", "--nation", "BG", *common).returncode != 0

    auditor = add_user(redis_url, server.prefix, "auditor-aut009", "auditor", "GR")  # the centre-wide reader
    web = httpx.Client(base_url=server.url, timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    web.post("/login", data={"username": "cli-officer", "password": "wrong", "csrf": csrf})
    entries = server.api("/audit", auditor, limit=5000).json()["items"][::-1]  # oldest first
    mine = [(e["action"], e["object"]) for e in entries if e["action"] != "token.use"
            and (e["object"] in ("cli-officer", token_id) or e["detail"].get("user") == "cli-officer")]
    assert mine == [("user.add", "cli-officer"), ("token.create", token_id), ("token.revoke", token_id),
                    ("token.create", mine[3][1]), ("user.disable", "cli-officer"), ("login.failure", "cli-officer")]
    assert ("token.use", token_id) in [(e["action"], e["object"]) for e in entries if e["actor"] == "cli-officer"]
    assert server.api("/audit", users["duty-rs"]).status_code == 403  # not an admin
    other_nation = server.api("/audit", users["admin-mk"], limit=5000).json()["items"]  # MK's admin: not a BG user's
    assert not [e for e in other_nation if "cli-officer" in (e["actor"], e["object"], e["detail"].get("user"))]


# --- releasability ------------------------------------------------------------

RELEASES = {  # unrouted first (no registered feed, no releasability: nobody's until released), routed last
    "unstated-rs": {"releasable_to": None, "source": "RS"},
    "unstated-gr": {"releasable_to": None, "source": "GR"},
    "source-all": {"releasable_to": None, "source": "ALL"},  # source is never a releasability
    "rs-only": {"releasable_to": ["RS"], "source": "RS"},
    "gr-hr": {"releasable_to": ["GR", "HR"], "source": "GR"},
    "all": {"releasable_to": ["ALL"], "source": "MK"},
}
EXPECTED = {
    "duty-rs": {"rs-only", "all"},
    "resp-gr": {"gr-hr", "all"},
    "lead-hr": {"gr-hr", "all"},
    "admin-mk": {"all"},
}


@pytest.fixture(scope="module")
def released(server, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    tag = make_alert()["id"]
    ids = {}
    for name, fields in RELEASES.items():
        alert = make_alert(id=f"{tag}-{name}", severity="critical", reported_at="2019-05-05T05:05:05Z", **fields)
        if fields["releasable_to"] is None:
            del alert["releasable_to"]
        ids[name] = alert["id"]
        send_to_stream(client, keys, [payload(alert)])
    admin_check = add_user(redis_url, server.prefix, f"sys-{tag[-8:]}", "admin", "RS")
    wait_for(lambda: {ids["rs-only"], ids["all"]} <= server.alert_ids(admin_check, since="2019-05-05T00:00:00Z"),
             what="the releasability alerts")
    return ids


WINDOW = {"since": "2019-05-05T00:00:00Z", "until": "2019-05-06T00:00:00Z"}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_rel001_lists_details_and_counts_show_exactly_what_is_released(server, users, released, who):
    user = users[who]
    visible = {released[name] for name in EXPECTED[who]}
    assert server.alert_ids(user, **WINDOW) == visible
    for name, alert_id in released.items():
        response = server.api(f"/alerts/{quote(alert_id, safe='')}", user)
        assert response.status_code == (200 if alert_id in visible else 404), (who, name)
        if response.status_code == 404:
            assert alert_id not in response.text or "no alert" in response.text
    summary = server.api("/summary", user, **WINDOW).json()
    assert summary["total_alerts"] == len(visible)
    assert summary["by_severity"]["critical"] == len(visible)
    listing = server.api("/alerts", user, **WINDOW).json()
    assert listing["total"] == len(visible)


def _sse_ids(server, user, cursor: str, expected: int) -> set[str]:
    seen: set[str] = set()
    with httpx.stream("GET", f"{server.url}/live/alerts", params={"after": cursor, **WINDOW},
                      headers=user.headers, timeout=httpx.Timeout(10, read=3)) as response:
        assert response.status_code == 200
        try:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    seen.add(json.loads(line[6:])["id"])
        except httpx.ReadTimeout:
            pass  # the replay is over: the stream is waiting for new events
    return seen


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_rel002_live_stream_carries_only_released_alerts(server, users, released, who):
    visible = {released[name] for name in EXPECTED[who]}
    assert _sse_ids(server, users[who], "0-0", len(visible)) == visible
