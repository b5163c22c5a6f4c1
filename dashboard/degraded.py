"""Degraded mode at the edge: while Redis is unreachable, a clear 503 instead of a bare 500 or a reset.

``DegradedMiddleware`` is the outermost middleware (around authentication,
which needs Redis). It answers for itself, without touching Redis, while the
process's ``Outage`` says Redis is away; and a request that fails with one of
``alerts.store.client.STORE_UNAVAILABLE`` (the store client's own errors, not
any ``OSError``: a missing file is not an outage) before its answer started
both starts the outage and gets the same answer:

- pages (a browser's request: a ``GET`` or ``POST`` that accepts
  ``text/html`` or posts a form, such as the sign-in form; never under
  ``/api/``, ``/_dash-`` or ``/live/``): 503, an HTML page whose banner
  (``#degraded-banner``) says "Live data unavailable since HH:MM UTC,
  retrying" and which reloads itself every ``retry_after`` seconds (a
  ``<meta http-equiv=refresh>``: no script), so it comes back by itself. It
  speaks the browser's language (``Accept-Language``, ``alerts.i18n.negotiate``:
  nobody's session can be read while Redis is away);
- everything else (API, Dash callbacks, live streams): 503 JSON
  ``{"detail": the banner's text, "reason": "redis_unavailable", "since": ISO
  8601 UTC, "retry_after": seconds}``.

- websockets (Dash's): accepted and closed with code 1013 (Try Again Later)
  and the banner's text as the reason, never a traceback. A websocket whose
  browser has gone (the server's ``send`` raised an ``OSError``: uvicorn's
  ``ClientDisconnected``, e.g. a page left while its socket was being
  accepted) ends quietly: nobody to answer, and no outage.

Both answers carry ``Retry-After`` (seconds) and ``X-Crisis-Degraded: <since>``
(``assets/degraded.js`` shows the banner on an open page when a callback gets
such an answer). Static files are passed through untouched; so is
``/api/v1/health``, which names the cause itself, except that while Redis is
away its request goes on without credentials (they cannot be checked), and
health then gives every caller the reasons without their error details.
"""
from __future__ import annotations

import html
import json
import logging

from alerts import i18n
from alerts.i18n import gettext as _
from alerts.i18n import ngettext
from alerts.store.client import STORE_UNAVAILABLE
from dashboard.outage import Outage

log = logging.getLogger(__name__)

PASS_PREFIXES = ("/assets/", "/_dash-component-suites/")
PASS_PATHS = {"/favicon.ico", "/_favicon.ico"}
HEALTH_PATH = "/api/v1/health"
CREDENTIALS = {b"authorization", b"cookie"}
#: The header that marks an answer of degraded mode (its value: since when, ISO 8601 UTC).
DEGRADED_HEADER = "x-crisis-degraded"
REASON = "redis_unavailable"
#: The close code of a websocket refused while Redis is away (RFC 6455 §7.4.1: Try Again Later).
TRY_AGAIN_LATER = 1013


#: Request bodies only a browser's form sends.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _is_page(scope) -> bool:
    """Whether a browser asked (see the module docstring): the answer is the banner page, not JSON."""
    headers = {k: v.decode("latin-1") for k, v in scope.get("headers", []) if k in (b"accept", b"content-type")}
    form = headers.get(b"content-type", "").split(";")[0].strip().lower() in FORM_TYPES
    return (scope.get("method") in ("GET", "POST") and ("text/html" in headers.get(b"accept", "") or form)
            and not scope["path"].startswith(("/api/", "/_dash-", "/live/")))


def anonymous(scope) -> dict:
    """``scope`` without the request's credentials (``Authorization``, ``Cookie``)."""
    return {**scope, "headers": [(k, v) for k, v in scope.get("headers", []) if k not in CREDENTIALS]}


def degraded_page(message: str, retry_after: int, marking: str = "") -> str:
    """The HTML page answered for a page while Redis is away (the banner, ``message`` in the current language,
    and a reload every ``retry_after`` s), in the current language (``alerts.i18n``), marked at top and bottom
    with ``marking`` (the deployment's lowest classification, never translated) like every page."""
    text = html.escape(message[:1].upper() + message[1:])
    line = (f'<div class="classification {{}} marking-level-0" data-translate="no" translate="no">'
            f'{html.escape(marking)}</div>' if marking else "")
    title = html.escape(_("Crisis dashboard: live data unavailable"))
    note = html.escape(ngettext(
        "The dashboard cannot reach its data store. This page tries again every %(n)s second and comes back by "
        "itself.",
        "The dashboard cannot reach its data store. This page tries again every %(n)s seconds and comes back by "
        "itself.", int(retry_after)) % {"n": i18n.number(int(retry_after))})
    return (f'<!DOCTYPE html><html lang="{i18n.current()}"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="{int(retry_after)}">'
            f'<title>{title}</title>'
            f'<link rel="stylesheet" href="/assets/style.css"></head><body>{line.format("top")}'
            f'<div id="degraded-banner" class="degraded-banner" role="alert">{text}</div>'
            f'<main class="degraded"><p>{note}</p></main>{line.format("bottom")}</body></html>')


class DegradedMiddleware:
    """Answers 503 while ``outage`` is on (see the module docstring); ``retry_after`` in seconds."""

    def __init__(self, app, outage: Outage, retry_after: int = 5, marking: str = ""):
        self.app = app
        self.outage = outage
        self.retry_after = retry_after
        self.marking = marking

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] in PASS_PATHS or scope["path"].startswith(PASS_PREFIXES):
            await self.app(scope, receive, send)
            return
        health = scope["path"] == HEALTH_PATH
        if self.outage.down:
            if health:
                await self.app(anonymous(scope), receive, send)
            else:
                await self._answer(scope, send)
            return
        started = False

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except STORE_UNAVAILABLE as exc:
            self.outage.failed(f"Redis unreachable: {exc}")
            if started:
                raise
            if health:
                await self.app(anonymous(scope), receive, send)
            else:
                await self._answer(scope, send)

    async def _websocket(self, scope, receive, send) -> None:
        """A websocket while Redis is away, or one whose handling fails with ``STORE_UNAVAILABLE``: accepted (if it
        was not yet) and closed with 1013 Try Again Later (RFC 6455 §7.4.1), the reason in words; never a traceback.
        One whose browser has gone (the server's ``send`` raised ``OSError``) just ends."""
        state = {"accepted": False, "closed": False, "gone": False}

        async def watched_send(message):
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            try:
                await send(message)
            except OSError:
                state["gone"] = True
                raise

        if not self.outage.down:
            try:
                await self.app(scope, receive, watched_send)
                return
            except STORE_UNAVAILABLE as exc:
                self.outage.failed(f"Redis unreachable: {exc}")
            except OSError as exc:
                if not state["gone"]:
                    raise
                log.debug("websocket %s: the client went away (%r)", scope.get("path"), exc)
                return
        if state["closed"]:
            return
        try:
            if not state["accepted"]:
                message = await receive()
                if message["type"] != "websocket.connect":
                    return
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER,
                        "reason": (self.outage.message() or "live data unavailable, retrying")[:120]})
        except OSError:  # the client has gone already
            return

    async def _answer(self, scope, send) -> None:
        snapshot = self.outage.snapshot()
        message = self.outage.message() or "live data unavailable, retrying"
        if _is_page(scope):  # for people: in the browser's language (no session can be read now)
            accept = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept-language"), None)
            spoken = i18n.use(i18n.negotiate(accept))
            try:
                banner = self.outage.banner() or _("Live data unavailable, retrying")
                body = degraded_page(banner, self.retry_after, self.marking).encode()
            finally:
                i18n.reset(spoken)
            kind = b"text/html; charset=utf-8"
        else:
            body = json.dumps({"detail": message, "reason": REASON, "since": snapshot["since"],
                               "retry_after": self.retry_after}).encode()
            kind = b"application/json"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", str(self.retry_after).encode()), (b"cache-control", b"no-store"),
                   (DEGRADED_HEADER.encode(), (snapshot["since"] or "").encode())]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
