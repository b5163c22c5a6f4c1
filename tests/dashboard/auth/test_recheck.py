"""Live streams are re-authorised: revoke, disable, sign-out or a change of rights ends an open stream."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable

import httpx
import pytest

from alerts.store.accounts import Accounts

from tests.conftest import add_user
from tests.dashboard.live.test_live_push import Stream

#: How long a stream may outlive the change (the recheck runs every 2 s; generous for a loaded machine).
DEADLINE = 20


def accounts_of(app_server) -> Accounts:
    return app_server.services.accounts


def _ends_with_revoked(app_server, path: str, change: Callable[[], object], **request) -> None:
    """Open ``path``, make ``change`` once the stream is open, and read until the stream ends."""
    with httpx.stream("GET", f"{app_server.url}{path}", timeout=httpx.Timeout(DEADLINE, read=DEADLINE),
                      **request) as response:
        assert response.status_code == 200
        events = Stream(response)
        threading.Timer(0.2, change).start()
        name, data = events.next_event()
        while name != "revoked":
            name, data = events.next_event()
        assert "revoked" in data["reason"]
        with pytest.raises(AssertionError, match="the stream ended"):
            events.next_event()


@pytest.mark.parametrize("path", ["/live/alerts", "/live/assets"])
def test_rch001_a_revoked_token_ends_the_stream(app_server, path):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, f"rch1{path[6:9]}", "duty_officer", "RS")
    token_id = user.token.split("_")[1]
    _ends_with_revoked(app_server, path, lambda: accounts_of(app_server).revoke_token(token_id), headers=user.headers)
    assert httpx.get(f"{app_server.url}{path}", headers=user.headers, timeout=5).status_code == 401


def test_rch002_a_disabled_user_loses_the_stream(app_server):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "rch2", "responder", "GR")
    _ends_with_revoked(app_server, "/live/alerts", lambda: accounts_of(app_server).disable_user("rch2"),
                       headers=user.headers)


@pytest.mark.parametrize("change", [{"clearance": "SECRET"}, {"nation": "HR"}, {"role": "responder"}])
def test_rch003_a_change_of_clearance_nation_or_role_ends_the_stream(app_server, change):
    name = "rch3-" + next(iter(change))
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, name, "duty_officer", "RS")
    _ends_with_revoked(app_server, "/live/alerts", lambda: accounts_of(app_server).set_user(name, **change),
                       headers=user.headers)
    again = httpx.get(f"{app_server.url}/api/v1/me", headers=user.headers, timeout=5).json()
    assert again[next(iter(change))] == next(iter(change.values()))  # the same token, under the new rights


def test_rch004_signing_out_ends_the_streams_of_that_session(app_server):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "rch4", "leadership", "BA")
    web = httpx.Client(base_url=app_server.url, timeout=10, follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    assert web.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf,
                                    "next": "/"}).status_code == 303

    def sign_out():
        assert web.post("/logout", headers={"X-CSRFToken": web.cookies["_csrf_token"]}).status_code == 204

    _ends_with_revoked(app_server, "/live/alerts", sign_out, cookies=dict(web.cookies))


def test_rch005_an_unrelated_change_leaves_the_stream_open(app_server):
    """Another user's sign-out bumps the counter; this caller is re-identified and keeps its stream."""
    keep = add_user(app_server.services.settings.redis_url, app_server.prefix, "rch5", "duty_officer", "RS")
    other = add_user(app_server.services.settings.redis_url, app_server.prefix, "rch5-other", "duty_officer", "RS")
    from alerts.core.viewer import Viewer
    from dashboard.auth.recheck import Recheck

    scope = {"type": "http", "headers": [(b"authorization", f"Bearer {keep.token}".encode())]}
    viewer = Viewer("rch5", "duty_officer", "RS", via="token", clearance="UNCLASSIFIED")
    recheck = Recheck(app_server.services, scope, viewer)
    assert recheck._still()
    accounts_of(app_server).revoke_token(other.token.split("_")[1])
    assert recheck._still()
    accounts_of(app_server).set_user("rch5", clearance="RESTRICTED")
    assert not recheck._still()

