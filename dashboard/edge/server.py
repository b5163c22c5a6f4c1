"""How uvicorn serves the app: the one set of server options ``crisisdash serve`` and the tests use.

- ``http="h11"``: the pure-Python HTTP/1.1 parser, whose buffer for an
  unfinished request head is bounded (``h11_max_incomplete_event_size``).
  uvicorn's default when ``httptools`` is installed has no such bound: a
  64 MB header was read in whole. With h11, a head still unfinished past
  ``MAX_HEAD_BYTES`` is answered 400 and the connection closed. h11 checks
  only while the head is unfinished (one that arrives in a single read of up
  to 256 KiB passes it), so ``HeadLimit`` (installed by ``dashboard.edge``)
  answers 431 Request Header Fields Too Large (RFC 6585 §5) and closes the
  connection for a head over ``MAX_HEAD_BYTES`` or with more than
  ``MAX_HEADERS`` fields, before anything else reads it.
- ``proxy_headers=False``: ``X-Forwarded-*`` count only through the app's own
  trusted-proxy setting (``dashboard.api.mount``).
- the TLS files, if any (``dashboard.edge.tls``).

``Server`` ends the live streams before uvicorn's shutdown: uvicorn
(``uvicorn.Server.shutdown``) stops accepting connections, then waits up to
``timeout_graceful_shutdown`` for every open request to finish, then cancels
what is left (an ERROR and a traceback per task). A live stream never finishes
by itself, so a server with open map tabs always hit that timeout; ``on_stop``
(the app's ``StreamLimits.end_all``) ends them at once, their browsers
reconnect to whichever server answers next, and the shutdown is clean.
"""
from __future__ import annotations

import gc
import socket
from collections.abc import Callable

import uvicorn

from dashboard.edge.tls import uvicorn_tls
from dashboard.settings import Settings

#: The largest request head (request line and every header, bytes) the server reads.
MAX_HEAD_BYTES = 32 * 1024
#: The most header fields a request may carry.
MAX_HEADERS = 100


def uvicorn_options(settings: Settings) -> dict:
    """Keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` besides the app, host and port."""
    return {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES, "proxy_headers": False,
            "log_level": "warning", **uvicorn_tls(settings)}


class HeadLimit:
    """ASGI middleware: 431 (JSON ``{"detail"}``, ``Connection: close``) for a request (or websocket) whose
    headers are more than ``MAX_HEADERS`` fields or ``MAX_HEAD_BYTES`` bytes (names, values and the target)."""

    def __init__(self, app, max_bytes: int = MAX_HEAD_BYTES, max_headers: int = MAX_HEADERS):
        self.app = app
        self.max_bytes = max_bytes
        self.max_headers = max_headers

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            headers = scope.get("headers", [])
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in headers)
            if len(headers) > self.max_headers or size > self.max_bytes:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1009, "reason": "request head too large"})
                    return
                body = (b'{"detail": "request headers too large (at most %d fields, %d bytes)"}'
                        % (self.max_headers, self.max_bytes))
                await send({"type": "http.response.start", "status": 431,
                            "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class Server(uvicorn.Server):
    """``uvicorn.Server`` that calls ``on_stop()`` as it starts to shut down (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], object]):
        super().__init__(config)
        self._on_stop = on_stop

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then freeze what start-up made (``gc.freeze``): it lives as long as the process,
        so no collection, the one at exit included, scans it again (an exit took seconds on a loaded machine)."""
        await super().startup(sockets=sockets)
        gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """End the live streams, then shut down as uvicorn does."""
        self._on_stop()
        await super().shutdown(sockets=sockets)


def serve_app(app, on_stop: Callable[[], object], **options) -> None:
    """Run ``app`` (ASGI) with uvicorn ``options`` (``uvicorn.Config`` keywords) until SIGINT/SIGTERM."""
    Server(uvicorn.Config(app, **options), on_stop).run()
