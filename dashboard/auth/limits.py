"""The web edge's limits: who the client is, and how often it may sign in or call.

- **Client address**: the peer address of the connection. Behind a reverse
  proxy, ``X-Forwarded-For`` (and ``X-Forwarded-Proto``) are believed only
  from a peer listed in ``CRISIS_TRUSTED_PROXIES``; the client is then the
  right-most address in the header that is not itself a trusted proxy
  (uvicorn's ``ProxyHeadersMiddleware`` as ``ForwardedFor``, which ``dashboard.api.mount`` puts in
  front of the app; MDN "X-Forwarded-For", RFC 7239 §5.2 for the meaning of
  the chain). From any other peer the headers are ignored, so a client cannot
  pick its own address. An entry that is not an IP address (with or without a
  port: ``garbage``, ``999.999.1.1``, a name) is ignored (``ForwardedFor``): the
  rule runs over the valid entries only, so the client is the next valid hop,
  or the peer itself when none is valid. ``address_key`` groups an IPv6 client by its /64
  (one host usually holds a whole /64).
- **Sign-in** (``POST /login``, in this order; ``dashboard.auth.login``):
  ``CRISIS_LOGIN_RATE`` attempts per client address (refused before
  anything else), and ``CRISIS_LOGIN_RATE_GLOBAL`` over all addresses; then
  the form's signed CSRF token; then whether the client holds a valid
  **device cookie** for the user name (``alerts.store.devices``; OWASP "Slow
  Down Online Guessing Attacks with Device Cookies"). A client without one
  is refused 429 *without its password being checked* (no argon2 work, and
  the answer is the same for a right and a wrong password: no oracle) past
  the global limit, and past the name's failure budget
  ``CRISIS_LOGIN_ACCOUNT_FAILURES`` (failures from all addresses together,
  so rotating addresses gains nothing); within both, the lock per (user
  name, address) pair applies (``alerts.store.throttle``). A client with a
  device cookie for the name is checked whatever the global limit and the
  budget say; its failures lock only (user name, that device) and do not
  spend the name's budget, so nobody else's guessing locks a user out of a
  browser it has signed in with. A user's first sign-in from a new browser
  during a flood does wait (the trade-off OWASP describes: the lockout hits
  untrusted clients only).
- **API** (everything a token or a session reaches): ``CRISIS_API_RATE``
  requests per token (by its id) or per session (by its cookie's digest).

A refusal is 429 Too Many Requests (RFC 6585 §4) with ``Retry-After``: whole
seconds, rounded up (RFC 9110 §10.2.3); the API answers JSON ``{"detail",
"reason": "rate_limited", "limit", "retry_after"}``. Each refusal is audited
once per subject, limit and hour (``rate.limited``); refusals by a limit over
all addresses (``login-global``, which a flood from many addresses reaches) are
sampled instead: one entry per limit and minute, with the count of the minute
before, so the flood cannot fill the audit stream.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import time
from collections.abc import Callable

from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from alerts.core.events import RateLimited
from alerts.core.rates import Rate
from alerts.store.audit import AuditLog
from alerts.store.devices import Devices
from alerts.store.throttle import RateLimiter, SignInLock, Verdict
from dashboard.settings import Settings


def _forwarded_address(entry: str) -> bool:
    """Whether one ``X-Forwarded-For`` entry is an IP address (``1.2.3.4``, ``1.2.3.4:80``, ``2001:db8::1``,
    ``[2001:db8::1]:80``)."""
    entry = entry.strip()
    if entry.startswith("["):
        end = entry.find("]")
        host, rest = entry[1:end], entry[end + 1:]
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return False
    elif entry.count(":") == 1:
        host, port = entry.split(":")
        if not port.isdigit():
            return False
    else:
        host = entry
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class ForwardedFor(ProxyHeadersMiddleware):
    """uvicorn's ``ProxyHeadersMiddleware`` (trusted proxies: ``trusted_hosts``) over only the ``X-Forwarded-For``
    entries that are IP addresses (see the module docstring); the scope's headers are replaced in place, as
    the outer middleware read the scope the inner ones change (the scheme)."""

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            found = [value for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
            if found:
                entries = ",".join(v.decode("latin-1") for v in found).split(",")
                valid = ", ".join(e.strip() for e in entries if _forwarded_address(e))
                headers = [(n, v) for n, v in scope["headers"] if n != b"x-forwarded-for"]
                if valid:
                    headers.append((b"x-forwarded-for", valid.encode("latin-1")))
                scope["headers"] = headers
        await super().__call__(scope, receive, send)


#: Limits over all addresses: their refusals are audited once per minute, not once per address and hour.
SAMPLED_LIMITS = frozenset({"login-global"})
#: What a sampled ``rate.limited`` says.
SAMPLED = "first refusal of this minute by a limit over all addresses"


def address_key(host: str) -> str:
    """The rate-limit subject of a client address: an IPv4 address as is, an IPv6 one as its /64 network,
    anything else (a unix socket, "") as given, cut to 64 characters."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def session_subject(cookie: str) -> str:
    """The rate-limit subject of a web session: ``session:`` and 32 hex digits of its cookie's SHA-256."""
    return "session:" + hashlib.sha256(cookie.encode()).hexdigest()[:32]


def retry_after(verdict: Verdict) -> int:
    """``Retry-After`` in whole seconds (at least 1) for a refused ``verdict``."""
    return max(1, math.ceil(verdict.retry_after))


def too_many(verdict: Verdict, limit: str, detail: str) -> Response:
    """A 429 JSON response for the API: ``Retry-After`` and ``{"detail", "reason", "limit", "retry_after"}``."""
    seconds = retry_after(verdict)
    body = {"detail": detail, "reason": "rate_limited", "limit": limit, "retry_after": seconds}
    return Response(json.dumps(body), status_code=429, media_type="application/json",
                    headers={"Retry-After": str(seconds)})


class EdgeLimits:
    """The limits of one server process (settings from ``CRISIS_LOGIN_*`` and ``CRISIS_API_RATE``), counted in
    Redis; ``clock`` (epoch seconds) is injectable."""

    def __init__(self, settings: Settings, limiter: RateLimiter, lock: SignInLock, audit: AuditLog,
                 devices: Devices):
        self.limiter = limiter
        self.lock = lock
        self.audit = audit
        self.devices = devices
        self.login_rate = Rate.parse(settings.login_rate)
        self.login_rate_global = Rate.parse(settings.login_rate_global)
        self.account_failures = Rate.parse(settings.login_account_failures)
        self.api_rate = Rate.parse(settings.api_rate)

    @classmethod
    def build(cls, settings: Settings, client, keys, audit: AuditLog,
              clock: Callable[[], float] = time.time) -> EdgeLimits:
        """The limits over one Redis client and key space."""
        return cls(settings, RateLimiter(client, keys, clock),
                   SignInLock(client, keys, settings.login_max_failures, settings.login_lockout_seconds, clock),
                   audit, Devices(client, keys, clock))

    def sign_in(self, host: str, actor: str) -> tuple[Verdict, str]:
        """Count one sign-in attempt from ``host``: ``(verdict, which limit is over or "")``.

        ``"login"``: the address's own limit refused it (audited here, once per address and hour, as
        ``actor``, the name tried; the attempt goes no further). ``"login-global"``: the address was within
        its limit but all addresses together are over theirs; the caller refuses a client without a device
        cookie then, and audits that with ``refused`` (see the module docstring)."""
        subject = address_key(host)
        verdict = self.limiter.hit("login", subject, self.login_rate)
        if not verdict.allowed:
            self.refused(actor, subject, "login", verdict, host)
            return verdict, "login"
        verdict = self.limiter.hit("login-global", "all", self.login_rate_global)
        return verdict, "" if verdict.allowed else "login-global"

    def account(self, name: str) -> Verdict:
        """Count one attempt against the failure budget of the user name ``name`` (``CRISIS_LOGIN_ACCOUNT_FAILURES``,
        all addresses together), before its password is checked: ``Verdict(False, seconds)`` when the budget
        is spent (nothing counted). Give it back with ``not_failed`` when the attempt turns out not to be a
        failure."""
        return self.limiter.hit("login-account", name, self.account_failures)

    def not_failed(self, name: str) -> None:
        """Give back an attempt ``account`` counted (a correct password, or one refused unchecked)."""
        self.limiter.refund("login-account", name, self.account_failures)

    def api(self, subject: str, actor: str, host: str) -> Verdict:
        """Count one request of a token id or ``session_subject``; a refusal is audited as ``actor``."""
        verdict = self.limiter.hit("api", subject, self.api_rate)
        if not verdict.allowed:
            self.refused(actor, subject, "api", verdict, host)
        return verdict

    def refused(self, actor: str, subject: str, limit: str, verdict: Verdict, host: str) -> None:
        """Audit a refusal, once per ``subject`` and ``limit`` per hour (a session is named ``session``, never
        by its digest); for a limit in ``SAMPLED_LIMITS``, once per minute whatever the subject (the first
        refusal of the minute, with the count of the minute before: ``RateLimited.previous_minute``)."""
        shown = "session" if subject.startswith("session:") else subject
        if limit in SAMPLED_LIMITS:
            seconds = retry_after(verdict)
            self.audit.record_counted(
                actor or "?", lambda n: RateLimited(shown, limit=limit, retry_after=seconds, sampled=SAMPLED,
                                                    previous_minute=n), host, per=f"rate-limited:{limit}")
            return
        self.audit.record_first(actor or "?", RateLimited(shown, limit=limit, retry_after=retry_after(verdict)),
                                host, per=f"{limit}:{subject}")
