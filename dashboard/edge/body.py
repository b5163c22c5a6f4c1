"""``BodyLimit``: no request body larger than ``max_request_bytes`` is read (413 with a JSON reason).

A request whose ``Content-Length`` is over the limit is refused before any of
its body is read. A body without a length (chunked) is read up to the limit
and refused as soon as it goes beyond; one within the limit is handed on to
the app as it came. Either way the app never holds more than the limit, and
the answer is ``413 {"detail": "request body over N bytes (CRISIS_MAX_REQUEST_BYTES)"}``
(RFC 9110 section 15.5.14, "Content Too Large"). A ``Content-Length`` that is
not a number is refused with 400. ``larger`` names the few paths that take more
(exact path -> bytes: a MSEL upload), each still bounded.
"""
from __future__ import annotations

import json


class BodyLimit:
    """ASGI middleware refusing HTTP request bodies over ``max_bytes`` (see the module docstring)."""

    def __init__(self, app, max_bytes: int, larger: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = _content_length(scope)
        if declared is not None:
            if not declared.isdigit():
                await _refuse(send, 400, "Content-Length is not a number")
                return
            if int(declared) > limit:
                await _refuse(send, 413, self._too_large(limit))
                return
            await self.app(scope, receive, send)
            return
        # No length given: read the body (at most max_bytes of it) before the app sees any of it.
        messages, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)  # the client went away: let the app see that
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _refuse(send, 413, self._too_large(limit))
                return
            messages.append(message)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _too_large(self, limit: int) -> str:
        if limit != self.max_bytes:
            return f"request body over {limit} bytes (the most this route takes)"
        return f"request body over {limit} bytes (CRISIS_MAX_REQUEST_BYTES)"


def _content_length(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return value.decode("latin-1").strip()
    return None


async def _refuse(send, status: int, reason: str) -> None:
    body = json.dumps({"detail": reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
