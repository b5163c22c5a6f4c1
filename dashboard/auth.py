"""Who the caller is: the one place every route, callback and live stream asks.

``AuthMiddleware`` runs in front of everything the FastAPI server answers
(API, Dash pages and callbacks, the live stream, the Dash websocket):

- A caller is a user with a valid API token (``Authorization: Bearer ...``)
  or a signed-in web session (cookie ``crisis_session``, HttpOnly,
  SameSite=Strict). Nothing else is let through, except ``/login``,
  ``/api/v1/health`` and static files (scripts, styles, boundary data).
- Unauthenticated page loads are sent to ``/login``; anything else gets 401
  (a websocket is closed with code 4401).
- A state-changing request (POST, PUT, PATCH, DELETE) on a web session must
  carry the session's CSRF token in ``X-CSRFToken`` (the Dash renderer sends
  it from the ``_csrf_token`` cookie); otherwise 403.
- Permissions are checked where the action is (``require``), from the table
  in ``alerts.roles``, never by hiding buttons.
"""
from __future__ import annotations

import contextvars
import html
import json
import secrets
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerts.query import AlertQuery
from alerts.roles import Permission, Role, allowed
from dashboard import services as services_module
from dashboard.settings import Settings

SESSION_COOKIE = "crisis_session"
CSRF_COOKIE = "_csrf_token"
CSRF_HEADER = "x-csrftoken"
LOGIN_CSRF_COOKIE = "login_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = {"/login", "/api/v1/health", "/favicon.ico", "/_favicon.ico"}


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    nation: str | None  # None: not restricted by releasability (system use only)
    via: str = "system"  # session | token | system
    csrf: str = ""

    def restrict(self, query: AlertQuery, settings: Settings) -> AlertQuery:
        """``query`` narrowed to what this viewer may see."""
        return replace(query, nation=self.nation, default_to_source=settings.default_to_source)

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)


SYSTEM = Viewer(name="system", role=Role.ADMIN.value, nation=None)
_current_viewer: contextvars.ContextVar[Viewer | None] = contextvars.ContextVar("viewer", default=None)


def current_viewer(request: Request) -> Viewer:
    """FastAPI dependency: the authenticated caller (the middleware put it there)."""
    viewer = getattr(request.state, "viewer", None) or _current_viewer.get()
    if viewer is None:
        raise HTTPException(401, "authentication required")
    return viewer


def viewer_if_any() -> Viewer | None:
    return _current_viewer.get()


def viewer_for_callback() -> Viewer:
    """The viewer behind the Dash callback being run."""
    viewer = _current_viewer.get()
    if viewer is None:
        raise PermissionError("no authenticated viewer for this callback")
    return viewer


def require(viewer: Viewer, permission: Permission) -> None:
    if not viewer.can(permission):
        raise HTTPException(403, f"role {viewer.role} may not {permission.value.replace('_', ' ')}")


def _client_ip(scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def _cookies(scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header authenticates nobody
                continue
            jar.update({k: m.value for k, m in cookie.items()})
    return jar


def _header(scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


class AuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        # Redis look-ups block: keep them off the event loop that serves the live streams.
        viewer = await run_in_threadpool(self._authenticate, scope)
        if viewer is None:
            await self._refuse(scope, receive, send, 401, "authentication required")
            return
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and viewer.via == "session":
            sent = _header(scope, CSRF_HEADER.encode())
            if not sent or not secrets.compare_digest(sent, viewer.csrf):
                await self._refuse(scope, receive, send, 403, "CSRF token missing or invalid")
                return
        scope.setdefault("state", {})["viewer"] = viewer
        token = _current_viewer.set(viewer)
        try:
            await self.app(scope, receive, send)
        finally:
            _current_viewer.reset(token)

    def _authenticate(self, scope) -> Viewer | None:
        services = services_module.current()
        authorization = _header(scope, b"authorization")
        if authorization and authorization.lower().startswith("bearer "):
            found = services.accounts.user_for_token(authorization[7:].strip())
            if found is None:
                return None
            user, token_id = found
            services.audit.append(user.name, "token.use", token_id,
                                  {"method": scope.get("method", "WS"), "path": scope["path"]}, _client_ip(scope))
            return Viewer(user.name, user.role.value, user.nation, via="token")
        cookie = _cookies(scope).get(SESSION_COOKIE)
        if cookie:
            session = services.accounts.session(cookie)
            if session is not None:
                user = session.user
                return Viewer(user.name, user.role.value, user.nation, via="session", csrf=session.csrf)
        return None

    async def _refuse(self, scope, receive, send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4000 + status, "reason": reason})
            return
        accept = _header(scope, b"accept") or ""
        is_page = (scope["method"] == "GET" and "text/html" in accept and status == 401
                   and not scope["path"].startswith(("/api/", "/_dash-", "/live/")))
        if is_page:
            response: Response = RedirectResponse(f"/login?next={quote(scope['path'])}", status_code=303)
        else:
            response = Response(json.dumps({"detail": reason}), status_code=status,
                                media_type="application/json",
                                headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
        await response(scope, receive, send)


# --- sign-in pages -----------------------------------------------------------

login_router = APIRouter()


def _login_page(settings: Settings, csrf: str, next_path: str, message: str = "", status: int = 200) -> HTMLResponse:
    banner = html.escape(settings.classification)
    note = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Crisis dashboard</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><div class="frame"><div class="classification top">{banner}</div>
<main class="login"><h1>Crisis Response Coordination</h1>{note}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label>User name <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></main>
<div class="classification bottom">{banner}</div></div></body></html>"""
    response = HTMLResponse(body, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/login")
    return response


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


@login_router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    return _login_page(services_module.current().settings, secrets.token_urlsafe(24), _safe_next(next))


@login_router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    services = services_module.current()
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    name = form.get("username", "").strip().lower()
    next_path = _safe_next(form.get("next", "/"))
    ip = request.client.host if request.client else ""
    fresh_csrf = secrets.token_urlsafe(24)
    sent_csrf = form.get("csrf", "")
    if not sent_csrf or not secrets.compare_digest(sent_csrf, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return _login_page(services.settings, fresh_csrf, next_path, "The form expired; please sign in again.", 403)
    if services.accounts.throttled(name):
        services.audit.append(name or "?", "login.throttled", name, {}, ip)
        return _login_page(services.settings, fresh_csrf, next_path,
                           "Too many failed attempts; try again later.", 429)
    user = services.accounts.authenticate(name, form.get("password", ""))
    if user is None:
        services.audit.append(name or "?", "login.failure", name, {}, ip)
        return _login_page(services.settings, fresh_csrf, next_path, "Wrong user name or password.", 401)
    cookie, csrf = services.accounts.create_session(user)
    services.audit.append(user.name, "login.success", user.name, {"role": user.role.value}, ip)
    response = RedirectResponse(next_path, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@login_router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    services = services_module.current()
    viewer = current_viewer(request)  # the middleware checked the CSRF header
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        services.accounts.end_session(cookie)
    services.audit.append(viewer.name, "logout", viewer.name, {}, request.client.host if request.client else "")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
