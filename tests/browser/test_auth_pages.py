"""Sign-in, markings and the admin-only audit page, in a real headless Chromium."""
from __future__ import annotations

import re

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def test_pag001_sign_in_markings_and_sign_out(server, users, page):
    page.goto(f"{server.url}/")
    assert "/login" in page.url
    assert page.locator(".classification").count() == 2  # top and bottom, even on the sign-in page
    page.fill("input[name=username]", users["duty-rs"].name)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong user name or password" in page.inner_text("main")
    sign_in(page, server.url, users["duty-rs"])
    assert page.inner_text("#whoami") == "duty-rs · duty officer · RS"
    assert page.inner_text("#classification-top") == page.inner_text("#classification-bottom") == "UNCLASSIFIED"
    assert "Audit" not in page.inner_text("nav")
    page.click("#sign-out")
    page.wait_for_url(re.compile(r".*/login.*"))
    page.goto(f"{server.url}/")
    assert "/login" in page.url


def test_pag002_audit_page_is_for_admins_only(server, users, page, browser):
    sign_in(page, server.url, users["admin-mk"], path="/audit")
    page.wait_for_selector("#audit-table")
    table = page.inner_text("#audit-table")
    assert "login.success" in table and "admin-mk" in table
    other = browser.new_context().new_page()
    sign_in(other, server.url, users["lead-hr"], path="/audit")
    other.wait_for_selector(".denied")
    assert "Only administrators" in other.inner_text(".page-body")
    assert other.locator("#audit-table").count() == 0
    other.context.close()


def test_pag003_the_dash_websocket_refuses_unauthenticated_clients(server, users):
    ws_url = server.url.replace("http://", "ws://") + "/_dash-ws-callback"
    with pytest.raises(InvalidStatus):
        connect(ws_url, origin=server.url, open_timeout=5).close()
    web = httpx.Client(base_url=server.url, timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    web.post("/login", data={"username": users["resp-gr"].name, "password": users["resp-gr"].password, "csrf": csrf})
    cookie = f"crisis_session={web.cookies.get('crisis_session')}"
    with connect(ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=5) as socket:
        assert socket.protocol.state.name == "OPEN"
