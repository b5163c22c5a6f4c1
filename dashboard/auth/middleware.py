"""``AuthMiddleware``: runs in front of everything the server answers (API, pages, callbacks, live streams).

- A caller is a user with a valid API token (``Authorization: Bearer ...``)
  or a signed-in web session (cookie ``crisis_session``, HttpOnly,
  SameSite=Strict). Nothing else is let through, except ``/login``,
  ``/api/v1/health`` and static files (scripts, styles, boundary data).
- Unauthenticated page loads are sent to ``/login``; anything else gets 401
  (a websocket is closed with code 4401).
- A state-changing request (POST, PUT, PATCH, DELETE) on a web session must
  carry the session's CSRF token in ``X-CSRFToken`` (the Dash renderer sends
  it from the ``_csrf_token`` cookie); otherwise 403.
- Permissions are checked where the action is (``alerts.actions``), from the
  table in ``alerts.core.roles``, never by hiding buttons.
- Every authenticated request counts against its token's or session's rate
  (``CRISIS_API_RATE``, ``dashboard.auth.limits``): past it, 429 with
  ``Retry-After`` (a websocket is closed with 4429). A token's use is audited
  once per token and clock hour (``token.use``), with the method and the path
  template of the route that answered (``route_template``; ``/api/v1/alerts/{alert_id}``,
  not the id: the entry stands for the hour, so it names no one call's object),
  written when the answer starts.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import replace
from http.cookies import SimpleCookie
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from alerts import i18n
from alerts.core.events import TokenUsed
from alerts.core.viewer import Viewer
from alerts.store.throttle import Verdict
from dashboard.auth.context import RequestContext, enter, leave
from dashboard.auth.limits import EdgeLimits, session_subject, too_many
from dashboard.services import Services

SESSION_COOKIE = "crisis_session"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "x-csrftoken"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = {"/login", "/api/v1/health", "/favicon.ico", "/_favicon.ico"}
#: Public paths that answer more to a signed-in caller (credentials are checked, never required).
OPTIONAL_AUTH_PATHS = {"/api/v1/health"}


def client_ip(scope) -> str:
    """The peer address of an ASGI connection ("" when unknown)."""
    client = scope.get("client")
    return client[0] if client else ""


def cookies(scope) -> dict[str, str]:
    """The request's cookies (a malformed Cookie header yields none of its cookies)."""
    jar: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001  a malformed cookie header authenticates nobody
                continue
            jar.update({k: m.value for k, m in cookie.items()})
    return jar


def header(scope, wanted: bytes) -> str | None:
    """The first value of a request header (lower-case name as bytes), or None."""
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


def identify(services: Services, scope) -> tuple[Viewer, str, str] | None:
    """Who the request's credentials name now: ``(viewer, session CSRF token or "", token id or "")``,
    or None when they name no active user (a revoked token, an ended session, a disabled user).

    Nothing is audited here (``AuthMiddleware`` audits token use; live streams call this again
    to re-check a caller, see ``dashboard.auth.recheck``).
    """
    accounts = services.accounts
    authorization = header(scope, b"authorization")
    if authorization and authorization.lower().startswith("bearer "):
        found = accounts.user_for_token(authorization[7:].strip())
        if found is None:
            return None
        user, token_id = found
        return user.viewer("token", accounts.scheme), "", token_id
    cookie = cookies(scope).get(SESSION_COOKIE)
    if cookie:
        session = accounts.session(cookie)
        if session is not None:
            return session.user.viewer("session", accounts.scheme), session.csrf, ""
    return None


def route_template(scope) -> str:
    """The path template of the route that took the request, prefix included (``/api/v1/alerts/{alert_id}``:
    the route FastAPI put in the scope, its ``path_format`` after the part of the path its router's prefix
    took), or, for none, the path's first segment and ``/...``: never a concrete id."""
    route, path = scope.get("route"), scope.get("path", "/")
    regex, template = getattr(route, "path_regex", None), getattr(route, "path_format", None)
    if regex is not None and isinstance(template, str):
        for at in [i for i, c in enumerate(path) if c == "/"]:  # the longest tail the route's own path matches
            if regex.match(path[at:]):
                return path[:at] + template
    first = path.lstrip("/").split("/", 1)[0]
    return f"/{first}/..." if first else "/"


class AuthMiddleware:
    """Authenticates every request (see the module docstring) against ``services.accounts``."""

    def __init__(self, app, services: Services, limits: EdgeLimits):
        self.app = app
        self.services = services
        self.limits = limits

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in OPTIONAL_AUTH_PATHS:
            found = await run_in_threadpool(self._authenticate, scope)  # counted, never refused: health stays open
            if found is not None and scope["type"] == "http":
                scope.setdefault("state", {})["viewer"] = found[0]
            await self.app(scope, receive, send)
            return
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        # Redis look-ups block: keep them off the event loop that serves the live streams.
        found = await run_in_threadpool(self._authenticate, scope)
        if found is None:
            await self._refuse(scope, receive, send, 401, "authentication required")
            return
        viewer, csrf, verdict, first_use = found
        if first_use:
            send = self._audit_use(scope, send, viewer.name, first_use)
        if not verdict.allowed:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4429, "reason": "rate limited"})
                return
            await too_many(verdict, "api", "too many requests for this token or session")(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and viewer.via == "session":
            sent = header(scope, CSRF_HEADER.encode())
            if not sent or not secrets.compare_digest(sent, csrf):
                await self._refuse(scope, receive, send, 403, "CSRF token missing or invalid")
                return
        client = scope.get("client")
        viewer = replace(viewer, address=client[0] if client else "")  # the audit trail says from where
        scope.setdefault("state", {})["viewer"] = viewer
        token = enter(RequestContext(self.services, viewer))
        spoken = i18n.use(viewer.language or i18n.negotiate(header(scope, b"accept-language")))
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.reset(spoken)
            leave(token)
            if first_use:
                await send.record()  # the app answered nothing (it failed, or a websocket ended unaccepted)

    def _audit_use(self, scope, send, actor: str, token_id: str):
        """``send`` that audits the token's use (``token.use``) as the answer starts (the route is known then),
        or as the app ends without one."""
        done = False

        async def record() -> None:
            nonlocal done
            if not done:
                done = True
                used = TokenUsed(token_id, method=scope.get("method", "WS"), path=route_template(scope))
                await run_in_threadpool(self.services.centre.audit.record, actor, used, client_ip(scope))

        async def send_and_audit(message):
            if message["type"] in ("http.response.start", "websocket.accept", "websocket.close"):
                await record()
            await send(message)

        send_and_audit.record = record  # type: ignore[attr-defined]
        return send_and_audit

    def _authenticate(self, scope) -> tuple[Viewer, str, Verdict, str] | None:
        """(viewer, the session's CSRF token or "", the rate limit's verdict, the token id when this is its
        first use in the hour, to be audited, else "") for a valid token or session, else None."""
        found = identify(self.services, scope)
        if found is None:
            return None
        viewer, csrf, token_id = found
        ip = client_ip(scope)
        subject = f"token:{token_id}" if token_id else session_subject(cookies(scope).get(SESSION_COOKIE, ""))
        verdict = self.limits.api(subject, viewer.name, ip)
        first = bool(token_id) and self.services.centre.audit.claim_first(f"token:{token_id}")
        return viewer, csrf, verdict, token_id if first else ""

    async def _refuse(self, scope, receive, send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4000 + status, "reason": reason})
            return
        accept = header(scope, b"accept") or ""
        is_page = (scope["method"] == "GET" and "text/html" in accept and status == 401
                   and not scope["path"].startswith(("/api/", "/_dash-", "/live/")))
        if is_page:
            query = scope.get("query_string", b"").decode("latin-1")
            wanted = scope["path"] + (f"?{query}" if query else "")  # back to the same page, filters and all
            response: Response = RedirectResponse(f"/login?next={quote(wanted, safe='')}", status_code=303)
        else:
            response = Response(json.dumps({"detail": reason}), status_code=status, media_type="application/json",
                                headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
        await response(scope, receive, send)
