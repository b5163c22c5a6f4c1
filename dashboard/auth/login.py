"""Sign-in and sign-out: ``GET /login`` (the form), ``POST /login``, ``POST /logout``.

The form carries its own CSRF token (double-submit: a hidden field and an
HttpOnly cookie scoped to ``/login``), signed with the deployment's secret
(``alerts.store.devices``), so only a pair this server issued passes. A
successful sign-in sets the session cookie (HttpOnly, SameSite=Strict, Secure
over HTTPS), the CSRF cookie the Dash renderer echoes, and a device cookie for
the user (HttpOnly, SameSite=Strict, Secure over HTTPS, path ``/login``, 180
days). Every attempt is audited (refusals once per pair and hour, or sampled
per minute). Attempts are rate-limited per client address and overall; past
the overall limit, or past the user name's failure budget (all addresses
together), only clients holding a device cookie for that name have their
password checked; failures lock a (user name, client address) pair, or a
(user name, device) pair for a device cookie holder (``dashboard.auth.limits``,
``alerts.store.throttle``). A refusal is the form again with a message saying
how long to wait, status 429 and ``Retry-After``, and costs no password check.
User names are normalised and capped before anything is keyed, stored or
audited (``alerts.core.usernames``).

The page is served before anyone signs in, so it speaks the best shipped
match of the browser's ``Accept-Language`` (``alerts.i18n.negotiate``), its
messages too (``<html lang>`` says which); the classification marking is
never translated (``translate="no"``).
"""
from __future__ import annotations

import html
import math
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerts import i18n
from alerts.core.events import SignedIn, SignedOut, SignInFailed, SignInThrottled
from alerts.core.usernames import bounded
from alerts.core.viewer import Viewer
from alerts.i18n import gettext as _
from alerts.i18n import ngettext
from alerts.store.devices import DEVICE_SECONDS, Devices, device_cookie_name
from alerts.store.throttle import Verdict
from dashboard.auth.checks import Busy
from dashboard.auth.context import caller, services_of
from dashboard.auth.limits import EdgeLimits, address_key, retry_after
from dashboard.auth.middleware import CSRF_COOKIE, SESSION_COOKIE
from dashboard.services import Services

LOGIN_CSRF_COOKIE = "login_csrf"
#: What a sampled ``login.throttled`` says (only the first refusal of a minute is written).
SAMPLED = "first refusal of this minute"
#: ``Retry-After`` (seconds) of a sign-in refused because every sign-in slot is taken.
BUSY_RETRY_AFTER = 1

router = APIRouter()


def _language(request: Request) -> str:
    """The shipped language the browser asks for (``Accept-Language``): nobody is signed in to have chosen one."""
    return i18n.negotiate(request.headers.get("accept-language"))


def _login_page(classification: str, csrf: str, next_path: str, message: str = "", status: int = 200) -> HTMLResponse:
    """The form in the current language (``message``: already in it), marked with ``classification``."""
    banner = html.escape(classification)
    note = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    text = {key: html.escape(value) for key, value in {
        "title": _("Sign in") + " · " + _("Crisis dashboard"), "heading": _("Crisis Response Coordination"),
        "user": _("User name"), "password": _("Password"), "submit": _("Sign in")}.items()}
    marked = 'data-translate="no" translate="no"'  # the marking: never translated
    body = f"""<!doctype html><html lang="{i18n.current()}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text["title"]}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><div class="frame"><div class="classification top marking-level-0" {marked}>{banner}</div>
<main class="login"><h1>{text["heading"]}</h1>{note}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<label>{text["user"]} <input name="username" autocomplete="username" required autofocus></label>
<label>{text["password"]} <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">{text["submit"]}</button></form></main>
<div class="classification bottom marking-level-0" {marked}>{banner}</div></div></body></html>"""
    response = HTMLResponse(body, status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/login")
    return response


def _safe_next(value: str) -> str:
    """``value`` if it is a path of this site (never another host: no ``//``, no backslash), else ``/``."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _devices(request: Request) -> Devices:
    return request.app.state.edge_limits.devices


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/", services: Services = Depends(services_of)  # noqa: A002
               ) -> HTMLResponse:
    """The sign-in form, in the browser's language."""
    spoken = i18n.use(_language(request))
    try:
        return _login_page(services.centre.scheme.lowest, _devices(request).form_token(), _safe_next(next))
    finally:
        i18n.reset(spoken)


@router.post("/login", include_in_schema=False)
async def login(request: Request, services: Services = Depends(services_of)) -> Response:
    """Read the form, then check it off the event loop (Redis and argon2 block) in the sign-ins' own bounded
    pool (``dashboard.auth.checks``; its lane of known devices when the request carries a device cookie signed
    for the name): see ``attempt``. When that lane and its queue are full: 503 with ``Retry-After`` at once,
    nothing counted or checked. Answers in the browser's language."""
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    name = bounded(form.get("username", ""))
    device = request.cookies.get(device_cookie_name(name), "")
    language = _language(request)
    try:
        return await request.app.state.password_checks.run(
            attempt, services, request.app.state.edge_limits, form, _ip(request),
            request.cookies.get(LOGIN_CSRF_COOKIE, ""), request.url.scheme == "https", device, language,
            known=_devices(request).signed(name, device))  # users' own browsers have their own lane
    except Busy:
        spoken = i18n.use(language)
        try:
            response = _login_page(services.centre.scheme.lowest, _devices(request).form_token(),
                                   _safe_next(form.get("next", "/")),
                                   _("The centre is busy with other sign-ins; try again in a second."), 503)
        finally:
            i18n.reset(spoken)
        response.headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return response


def attempt(services: Services, limits: EdgeLimits, form: dict[str, str], ip: str, login_csrf: str,
            secure: bool, device_cookie: str = "", language: str = i18n.SOURCE) -> Response:
    """One sign-in attempt from the client address ``ip`` with the device cookie ``device_cookie`` ("" for
    none), in this order: the form's signed CSRF token (403; counted nowhere); whether the device cookie is
    valid for the name; without one, the address's rate limit, the global limit and then the name's failure
    budget (429 without checking the password); the lock of the (name, address) pair, or of the (name, device)
    pair for a device cookie holder (429); the password (401; a failure counts against the pair and, without
    a device cookie, the name's budget); else a session and a new device cookie (303 to ``next``). The user
    name is normalised and capped first (``alerts.core.usernames.bounded``), so nothing longer is keyed or
    audited. Every refusal before the password costs no argon2 work. A page answered is in ``language`` (a
    shipped tag; this runs in a pool thread, outside the request's context)."""
    spoken = i18n.use(language)
    try:
        return _attempt(services, limits, form, ip, login_csrf, secure, device_cookie)
    finally:
        i18n.reset(spoken)


def _attempt(services: Services, limits: EdgeLimits, form: dict[str, str], ip: str, login_csrf: str,
             secure: bool, device_cookie: str) -> Response:
    audit, classification = services.centre.audit, services.centre.scheme.lowest
    name = bounded(form.get("username", ""))
    next_path = _safe_next(form.get("next", "/"))
    if not limits.devices.form_valid(form.get("csrf", ""), login_csrf):  # first: a post the server never
        return _login_page(classification, limits.devices.form_token(), next_path,  # asked for counts nowhere
                           _("The form expired; please sign in again."), 403)
    fresh_csrf = limits.devices.form_token()
    device = limits.devices.holder(name, device_cookie)
    address = address_key(ip)
    # the address's limit and the global one count clients without a device cookie: nobody at the same
    # address (NAT, a tunnel, 127.0.0.1) can lock a user out of the browser they signed in with before
    allowed, limit = limits.sign_in(ip, name) if device is None else (None, "")
    if limit == "login":
        return _refused(classification, fresh_csrf, next_path, allowed,
                        _("Too many sign-in attempts from your address; try again in %(wait)s."))
    if device is None:
        if limit == "login-global":  # past the global limit only known browsers are checked
            audit.record_counted(name or "?", lambda n: SignInThrottled(name, limit=limit, sampled=SAMPLED,
                                                                        previous_minute=n),
                                 ip, per="login-throttled-global")
            limits.refused(name, address, limit, allowed, ip)
            return _refused(classification, fresh_csrf, next_path, allowed, _(
                "Too many sign-ins at this centre right now (from everywhere); try again in %(wait)s, or from a "
                "browser you have signed in with before."))
        budget = limits.account(name)
        if not budget.allowed:
            audit.record_counted(name or "?", lambda n: SignInThrottled(name, limit="account", sampled=SAMPLED,
                                                                        previous_minute=n),
                                 ip, per=f"login-throttled-account:{name}")
            return _refused(classification, fresh_csrf, next_path, budget, _(
                "Too many failed sign-ins for this user name (from everywhere); try again in %(wait)s, or from a "
                "browser you have signed in with before."))
    subject = address if device is None else f"device:{device}"
    locked = limits.lock.reserve(name, subject)  # counted as a failure now, atomically: no race past the lock
    if not locked.allowed:
        if device is None:
            limits.not_failed(name)  # refused unchecked: not a failure of the name's budget
        kind = "pair" if device is None else "device"
        audit.record_first(name or "?", SignInThrottled(name, limit=kind), ip, per=f"login-lock:{name}:{subject}")
        message = (_("Too many failed attempts for this user name from your address; try again in %(wait)s.")
                   if device is None else
                   _("Too many failed attempts for this user name from this browser; try again in %(wait)s."))
        return _refused(classification, fresh_csrf, next_path, locked, message)
    user = services.accounts.authenticate(name, form.get("password", ""))
    if user is None:
        audit.record(name or "?", SignInFailed(name), ip)
        return _login_page(classification, fresh_csrf, next_path, _("Wrong user name or password."), 401)
    limits.lock.succeeded(name, subject)
    if device is None:
        limits.not_failed(name)
    else:
        limits.devices.forget(name, device)  # replaced by the new one below
    cookie, csrf = services.accounts.create_session(user)
    audit.record(user.name, SignedIn(user.name, role=user.role.value), ip)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure, path="/")
    response.set_cookie(device_cookie_name(user.name), limits.devices.issue(user.name), max_age=DEVICE_SECONDS,
                        httponly=True, samesite="strict", secure=secure, path="/login")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _refused(classification: str, csrf: str, next_path: str, verdict: Verdict, message: str) -> HTMLResponse:
    """The form again with ``message`` (translated; ``%(wait)s``: the time to wait, in words), 429 and
    ``Retry-After``."""
    seconds = retry_after(verdict)
    if seconds < 120:
        wait = ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": i18n.number(seconds)}
    else:
        minutes = math.ceil(seconds / 60)
        wait = ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": i18n.number(minutes)}
    response = _login_page(classification, csrf, next_path, message % {"wait": wait}, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> Response:
    """End the session (the middleware has checked the CSRF header)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        services.accounts.end_session(cookie)
    services.centre.audit.record(viewer.name, SignedOut(viewer.name), _ip(request))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
