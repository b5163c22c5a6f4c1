"""Device cookies and signed sign-in forms (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

A successful sign-in gives the browser a **device cookie** for that user: the
user's normalised name and a random nonce, signed (HMAC-SHA1 via
``itsdangerous``, which Flask and Dash already use) with a server secret kept
in Redis (``Keys.device_secret``, 32 random bytes, created once with
``SET NX`` and shared by every server process). The nonce is recorded per
user (``Keys.devices``: a sorted set, nonce -> issued at), so a cookie is
valid only while its nonce is there: disabling the user or changing its
password deletes the set (``alerts.store.accounts``) and with it every
device cookie of the user. A cookie whose signature fails, names another
user, or whose nonce is gone or older than ``DEVICE_SECONDS`` counts as no
cookie. At most ``MAX_DEVICES`` are kept per user (the newest).

What a device cookie is for (``dashboard.auth.login``): a client holding one
for the name it signs in as is checked even when the user name's failure
budget or the global sign-in limit refuses everyone else, and its failures
lock only that device.

The same secret signs the sign-in form's CSRF token (a *signed*
double-submit cookie, OWASP CSRF Prevention Cheat Sheet), so a cookie and
field pair the server never issued is refused before anything else is done.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from alerts.store.client import Client, text
from alerts.store.keys import Keys

#: How long a device cookie is valid after it was issued (seconds: 180 days); each sign-in issues a new one.
DEVICE_SECONDS = 180 * 86400
#: Device cookies kept per user (the newest); an older one stops counting.
MAX_DEVICES = 32
#: How long a sign-in form's CSRF token is accepted (seconds).
FORM_SECONDS = 12 * 3600


def device_cookie_name(name: str) -> str:
    """The cookie that holds ``name``'s device cookie: ``crisis_device_`` and 16 hex digits of the
    name's SHA-256 (one cookie per user, so several users of one browser each keep theirs)."""
    return "crisis_device_" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


class Devices:
    """Issue, check and revoke device cookies, and sign sign-in forms (see the module docstring); ``clock``:
    epoch seconds."""

    def __init__(self, client: Client, keys: Keys, clock: Callable[[], float] = time.time):
        self.client = client
        self.keys = keys
        self.clock = clock
        self._secret: bytes | None = None

    def secret(self) -> bytes:
        """The shared secret (bytes), created on first use by whichever process comes first."""
        if self._secret is None:
            self.client.set(self.keys.device_secret, secrets.token_hex(32), nx=True)
            self._secret = text(self.client.get(self.keys.device_secret)).encode("ascii")
        return self._secret

    def issue(self, name: str) -> str:
        """A new device cookie value for the (normalised) user ``name``, recorded as valid."""
        nonce = secrets.token_urlsafe(18)
        now = self.clock()
        key = self.keys.devices(name)
        pipe = self.client.pipeline()
        pipe.zadd(key, {nonce: now})
        pipe.zremrangebyscore(key, "-inf", now - DEVICE_SECONDS)
        pipe.zremrangebyrank(key, 0, -MAX_DEVICES - 1)
        pipe.expire(key, DEVICE_SECONDS)
        pipe.execute()
        return URLSafeSerializer(self.secret(), salt="device").dumps([name, nonce])

    def holder(self, name: str, value: str) -> str | None:
        """The nonce of ``value`` if it is a valid device cookie of ``name`` (signed by us, naming ``name``,
        not revoked nor expired), else None. Never raises for a malformed value."""
        if not value or len(value) > 512:
            return None
        try:
            found = URLSafeSerializer(self.secret(), salt="device").loads(value)
        except BadSignature:
            return None
        if not (isinstance(found, list) and len(found) == 2 and found[0] == name and isinstance(found[1], str)):
            return None
        issued = self.client.zscore(self.keys.devices(name), found[1])
        return found[1] if issued is not None and float(issued) + DEVICE_SECONDS > self.clock() else None

    def signed(self, name: str, value: str) -> bool:
        """Whether ``value`` carries our signature and names ``name``, without asking Redis (so it may run on
        an event loop): revocation is not checked (``holder`` does), and before this process has read the
        secret (its first sign-in form) the answer is False."""
        if self._secret is None or not value or len(value) > 512:
            return False
        try:
            found = URLSafeSerializer(self._secret, salt="device").loads(value)
        except BadSignature:
            return False
        return isinstance(found, list) and len(found) == 2 and found[0] == name

    def forget(self, name: str, nonce: str) -> None:
        """Stop accepting one device cookie of ``name`` (it was replaced by a new one)."""
        self.client.zrem(self.keys.devices(name), nonce)

    def revoke_all(self, name: str) -> None:
        """Stop accepting every device cookie of ``name``."""
        self.client.delete(self.keys.devices(name))

    def form_token(self) -> str:
        """A new CSRF token for the sign-in form (random, signed, dated)."""
        return URLSafeTimedSerializer(self.secret(), salt="login-form").dumps(secrets.token_urlsafe(16))

    def form_valid(self, sent: str, cookie: str) -> bool:
        """Whether the form's field ``sent`` equals its cookie ``cookie`` and is a token this deployment
        issued within ``FORM_SECONDS``."""
        if not sent or len(sent) > 256 or not secrets.compare_digest(sent.encode(), cookie.encode()):
            return False
        try:
            URLSafeTimedSerializer(self.secret(), salt="login-form").loads(sent, max_age=FORM_SECONDS)
        except BadSignature:  # SignatureExpired is one
            return False
        return True
