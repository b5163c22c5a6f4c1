"""``SecurityHeaders``: the headers every HTTP response carries (pages, API, live streams, static files, errors).

The Content-Security-Policy (W3C CSP Level 3, https://www.w3.org/TR/CSP3/;
MDN "Content-Security-Policy") is the one the pages work under with no
violation (``tests/browser/test_csp.py`` proves it in Chromium):

| directive | sources | why |
|---|---|---|
| ``default-src`` | ``'self'`` | everything is served by this server: no CDN, no tile or font server |
| ``script-src`` | ``'self'`` and the SHA-256 of each inline script Dash writes into its index page (``Dash.csp_hashes``: the renderer start-up) | no ``'unsafe-inline'``, no ``'unsafe-eval'``: an injected script cannot run |
| ``style-src`` | ``'self' 'unsafe-inline'`` | Dash's components (webpack style-loader), plotly.js and MapLibre inject ``<style>`` elements at run time, without a nonce Dash could pass them |
| ``img-src`` | ``'self' data: blob:`` | plotly's mode bar and MapLibre's sprites and canvases |
| ``worker-src`` | ``'self' blob:`` | MapLibre's tile workers are ``blob:`` URLs; Dash's websocket worker is a script of this server |
| ``connect-src`` | ``'self'`` | the API, the live streams, Dash's callbacks and websocket (CSP3 ``'self'`` covers ``ws:``/``wss:`` of this host) |
| ``object-src``, ``frame-src`` | ``'none'`` | no plug-ins, no frames |
| ``base-uri``, ``form-action`` | ``'none'``, ``'self'`` | no ``<base>`` hijack; forms post here only |
| ``frame-ancestors`` | ``'none'`` | no other page may frame the app (click-jacking); ``X-Frame-Options: DENY`` for older browsers |

Besides: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
``Cross-Origin-Opener-Policy: same-origin``, ``Cross-Origin-Resource-Policy:
same-origin``, and a ``Permissions-Policy`` that turns off camera, microphone
and geolocation (OWASP Secure Headers Project, OWASP HTTP Headers Cheat Sheet).
A response that sets a header itself keeps its own (an HTML export, the
SITREP's or the AAR's, has a stricter CSP: ``dashboard.api.models.html_export``);
an HTML answer under ``/api/`` that sets none gets ``API_HTML_CSP`` (nothing
loads, runs or applies), never the pages' CSP. Over HTTPS (uvicorn with a certificate, or a trusted proxy's
``X-Forwarded-Proto: https``, see the README) every response also carries
``Strict-Transport-Security: max-age=<hsts_seconds>`` (RFC 6797) and every
cookie set is marked ``Secure``.

An exception that escapes the app before it answered is answered here with
500 ``{"detail": "internal error"}`` (headers and all), then re-raised so the
server logs it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders


#: The CSP of an HTML answer under ``/api/`` that brings none of its own: nothing loads, runs or styles it.
API_HTML_CSP = "default-src 'none'; style-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The pages' CSP (see the module docstring); ``script_hashes`` are CSP hash sources (``'sha256-...'``)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(policy: str) -> dict[str, str]:
    """The headers of every response (names lower-case), ``policy`` the CSP."""
    return {
        "content-security-policy": policy,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
    }


class SecurityHeaders:
    """ASGI middleware adding ``security_headers(policy)`` (and over HTTPS, HSTS and ``Secure`` cookies)
    to every HTTP response; websockets pass through."""

    def __init__(self, app, policy: str, hsts_seconds: int = 31_536_000):
        self.app = app
        self.headers = security_headers(policy)
        self.hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else ""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # read now, not on the way in: a trusted proxy's X-Forwarded-Proto is applied to the scope by
                # the proxy-headers middleware inside this one
                secure = scope.get("scheme") == "https"
                headers = MutableHeaders(scope=message)
                if scope.get("path", "").startswith("/api/") and headers.get("content-type", "").startswith(
                        "text/html"):
                    headers.setdefault("content-security-policy", API_HTML_CSP)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if secure:
                    if self.hsts:
                        headers.setdefault("strict-transport-security", self.hsts)
                    _secure_cookies(headers)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                body = json.dumps({"detail": "internal error"}).encode()
                await send_with_headers({"type": "http.response.start", "status": 500,
                                         "headers": [(b"content-type", b"application/json"),
                                                     (b"content-length", str(len(body)).encode())]})
                await send_with_headers({"type": "http.response.body", "body": body})
            raise


def _secure_cookies(headers: MutableHeaders) -> None:
    """Mark every ``Set-Cookie`` of a response ``Secure`` (RFC 6265 section 4.1.2.5)."""
    cookies = headers.getlist("set-cookie")
    if not cookies:
        return
    del headers["set-cookie"]
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        headers.append("set-cookie", cookie if "secure" in attributes else f"{cookie}; Secure")
