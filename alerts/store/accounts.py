"""Users, API tokens and web sessions, kept in Redis. No secret is ever stored in clear.

- Passwords: argon2id hashes (argon2-cffi).
- API tokens: ``cdt_<id>_<secret>``; stored under the SHA-256 of the whole
  token (a 256-bit random secret needs no slow hash), revocable by id.
- Sessions: a random cookie value, stored under its SHA-256 with the user name,
  the session's CSRF token and the user's session epoch, expiring after
  ``SESSION_SECONDS``. Setting a password moves the user's epoch on
  (``session_epoch``), which ends every session made before (API tokens stay).
- User names: every name taken in (add, look-up, sign-in) is normalised first
  (``alerts.core.usernames``: NFKC, case-folded, stripped, at most 64
  characters), so the key ``{p}:user:{name}`` always holds the normal form.
  Accounts made before normalising were already in that form (lower-case
  ASCII), so they sign in unchanged: no migration.
- Device cookies (``alerts.store.devices``) are revoked here too: disabling a
  user or changing its password deletes ``Keys.devices``.
- Sign-in throttling is not here: ``alerts.store.throttle`` (per user name and
  client address, and rate limits).
- Clearance: each user holds one classification level of the deployment's
  list (``alerts.core.markings.Classifications``; default the lowest).
- Every change that can end or narrow someone's access (disable, token
  revocation, sign-out, a new password, a change of role, nation or clearance)
  bumps one counter (``generation``), so open live streams know to check their caller again.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from alerts.core.markings import Classifications, MarkingError
from alerts.core.nations import is_alpha2
from alerts.core.roles import Role
from alerts.core.usernames import UserNameTooLong, normalise
from alerts.core.viewer import Viewer
from alerts.i18n import SHIPPED, canonical
from alerts.store.client import Client, text
from alerts.store.keys import Keys

SESSION_SECONDS = 12 * 3600
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A refused account change; the message says why."""


@dataclass(frozen=True)
class User:
    """A user account: name, role, nation (ISO2), clearance (a classification level), whether it is disabled
    and the user interface language chosen (a shipped BCP 47 tag, ``alerts.i18n``; "" for none).

    ``clearance`` None means the lowest level of the deployment. ``session_epoch``: a session is valid only
    while it holds this number (a new password moves it on).
    """

    name: str
    role: Role
    nation: str
    disabled: bool = False
    clearance: str | None = None
    language: str = ""
    session_epoch: int = 0

    def viewer(self, via: str, scheme: Classifications) -> Viewer:
        """This user as the rules see it (``alerts.core.viewer.Viewer``); ``via``: session, token or cli."""
        return Viewer(self.name, self.role.value, self.nation, via=via, clearance=self.clearance or scheme.lowest,
                      language=self.language)


@dataclass(frozen=True)
class Session:
    """A web session: its user and the CSRF token the browser must echo."""

    user: User
    csrf: str


def _normal(name: str) -> str:
    """``name`` normalised (``alerts.core.usernames``); raises ``AccountError`` when too long."""
    try:
        return normalise(name)
    except UserNameTooLong as exc:
        raise AccountError(str(exc)) from None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    """Users, API tokens, web sessions and sign-in throttling."""

    def __init__(self, client: Client, keys: Keys, scheme: Classifications | None = None):
        self.client = client
        self.keys = keys
        self.scheme = scheme or Classifications()

    # validation ----------------------------------------------------------
    @staticmethod
    def _role(role: str) -> Role:
        try:
            return Role(role)
        except ValueError:
            raise AccountError(f"role must be one of: {', '.join(r.value for r in Role)}") from None

    @staticmethod
    def _nation(nation: str) -> str:
        nation = nation.strip().upper()
        if not is_alpha2(nation):
            raise AccountError("nation must be an ISO 3166-1 alpha-2 code (Kosovo: XK)")
        return nation

    def _clearance(self, clearance: str) -> str:
        try:
            return self.scheme.level(clearance)
        except MarkingError as exc:
            raise AccountError(f"clearance: {exc}") from None

    def generation(self) -> int:
        """The access-change counter (see the module docstring); 0 before any change."""
        return int(self.client.get(self.keys.accounts_generation) or 0)

    def _changed(self) -> None:
        self.client.incr(self.keys.accounts_generation)

    # users ---------------------------------------------------------------
    def add_user(self, name: str, role: str, nation: str, password: str, clearance: str | None = None) -> User:
        """Create a user; raises ``AccountError`` for a bad name, role, nation or clearance, a short
        password, or an existing user. ``clearance`` defaults to the lowest level. ``name`` is normalised
        first (``alerts.core.usernames``): `` Alice `` is added as ``alice``."""
        name = _normal(name)
        if not _NAME.match(name):
            raise AccountError("user names are 2-64 characters: lower-case letters, digits, '.', '_', '-'")
        role_, nation = self._role(role), self._nation(nation)
        level = self._clearance(clearance) if clearance else self.scheme.lowest
        if len(password) < 10:
            raise AccountError("passwords need at least 10 characters")
        created = self.client.hsetnx(self.keys.user(name), "name", name)
        if not created:
            raise AccountError(f"user {name!r} exists")
        self.client.hset(self.keys.user(name), mapping={
            "role": role_.value, "nation": nation, "clearance": level, "password": _hasher.hash(password),
            "disabled": "0", "created": datetime.now(UTC).isoformat(),
        })
        self.client.sadd(self.keys.users, name)
        return User(name, role_, nation, clearance=level)

    def set_user(self, name: str, *, role: str | None = None, nation: str | None = None,
                 clearance: str | None = None) -> tuple[User, User]:
        """Change a user's role, nation or clearance: returns ``(before, after)``; raises ``AccountError``.

        Open live streams of the user are closed within seconds (``generation``).
        """
        name = _normal(name)
        before = self.get_user(name)
        if before is None:
            raise AccountError(f"no user {name!r}")
        changes = {}
        if role is not None:
            changes["role"] = self._role(role).value
        if nation is not None:
            changes["nation"] = self._nation(nation)
        if clearance is not None:
            changes["clearance"] = self._clearance(clearance)
        if not changes:
            raise AccountError("nothing to change: give a role, a nation or a clearance")
        self.client.hset(self.keys.user(name), mapping=changes)
        self._changed()
        return before, self.get_user(name)  # type: ignore[return-value]

    def set_language(self, name: str, language: str) -> None:
        """Store the user interface language a user chose: a shipped BCP 47 tag (``alerts.i18n.SHIPPED``), or
        "" to follow the browser's ``Accept-Language`` again. Raises ``AccountError`` for no such user or a
        language not shipped."""
        name = _normal(name)
        if self.get_user(name) is None:
            raise AccountError(f"no user {name!r}")
        if language and canonical(language) is None:
            raise AccountError(f"no user interface in {language[:20]!r}: one of {', '.join(SHIPPED)}")
        self.client.hset(self.keys.user(name), "language", canonical(language) or "")

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password (argon2id), end every session of the user (its open live streams close
        within seconds: ``generation``) and revoke its device cookies; its API tokens stay. Raises
        ``AccountError`` for no such user or a password under 10 characters."""
        name = _normal(name)
        if self.get_user(name) is None:
            raise AccountError(f"no user {name!r}")
        if len(password) < 10:
            raise AccountError("passwords need at least 10 characters")
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.keys.user(name), "password", _hasher.hash(password))
        pipe.hincrby(self.keys.user(name), "session_epoch", 1)  # every session made before ends
        pipe.delete(self.keys.devices(name))  # its device cookies (alerts.store.devices) stop counting
        pipe.execute()
        self._changed()

    def get_user(self, name: str) -> User | None:
        """The user (``name`` is normalised first), or None (also for a name too long to be anyone's)."""
        try:
            name = normalise(name)
        except UserNameTooLong:
            return None
        fields = {text(k): text(v) for k, v in self.client.hgetall(self.keys.user(name)).items()}
        if "role" not in fields:
            return None
        return User(fields["name"], Role(fields["role"]), fields["nation"], fields.get("disabled") == "1",
                    fields.get("clearance") or None, fields.get("language", ""), int(fields.get("session_epoch", 0)))

    def list_users(self) -> list[User]:
        """Every user, by name."""
        names = sorted(text(n) for n in self.client.smembers(self.keys.users))
        return [u for u in (self.get_user(n) for n in names) if u is not None]

    def disable_user(self, name: str) -> None:
        """Disable a user and revoke all its tokens and device cookies; raises ``AccountError`` for no such
        user."""
        name = _normal(name)
        if self.get_user(name) is None:
            raise AccountError(f"no user {name!r}")
        self.client.hset(self.keys.user(name), "disabled", "1")
        self.client.delete(self.keys.devices(name))  # its device cookies (alerts.store.devices) stop counting
        for token_id in self.client.smembers(self.keys.user_tokens(name)):
            self.revoke_token(text(token_id))
        self._changed()

    # passwords -------------------------------------------------------------
    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right and the user active (``name`` normalised first; a name too long
        to be anyone's is simply wrong). Takes the same time for unknown names. Counts nothing: sign-in
        throttling is ``alerts.store.throttle.SignInLock``."""
        user = self.get_user(name)
        stored = self.client.hget(self.keys.user(user.name), "password") if user is not None else None
        ok = False
        if stored is not None and user is not None and not user.disabled:
            try:
                ok = _hasher.verify(text(stored), password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            # Spend the same time on unknown names, so timing tells nothing.
            try:
                _hasher.verify(_DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                pass
        return user if ok else None

    # API tokens ------------------------------------------------------------
    def create_token(self, name: str, label: str = "") -> tuple[str, str]:
        """A new token for ``name``: returns ``(token_id, token)``; the token is shown once."""
        user = self.get_user(name)
        name = user.name if user is not None else name
        if user is None or user.disabled:
            raise AccountError(f"no active user {name!r}")
        token_id = secrets.token_hex(6)
        token = f"cdt_{token_id}_{secrets.token_urlsafe(32)}"
        self.client.hset(self.keys.token(_digest(token)), mapping={
            "user": name, "id": token_id, "label": label, "created": datetime.now(UTC).isoformat(),
        })
        self.client.hset(self.keys.token_index, token_id, _digest(token))
        self.client.sadd(self.keys.user_tokens(name), token_id)
        return token_id, token

    def _held_by_active_user(self, key: str) -> tuple[dict[str, str], User] | None:
        """The fields of a token or session hash and its user, if that user is active."""
        fields = {text(k): text(v) for k, v in self.client.hgetall(key).items()}
        user = self.get_user(fields["user"]) if fields else None
        if user is None or user.disabled:
            return None
        return fields, user

    def user_for_token(self, token: str) -> tuple[User, str] | None:
        """(user, token id) for a valid token of an active user."""
        found = self._held_by_active_user(self.keys.token(_digest(token)))
        return (found[1], found[0]["id"]) if found else None

    def revoke_token(self, token_id: str) -> bool:
        """Revoke a token by its id; False if there is none."""
        digest = self.client.hget(self.keys.token_index, token_id)
        if digest is None:
            return False
        key = self.keys.token(text(digest))
        owner = self.client.hget(key, "user")
        self.client.delete(key)
        self.client.hdel(self.keys.token_index, token_id)
        if owner is not None:
            self.client.srem(self.keys.user_tokens(text(owner)), token_id)
        self._changed()
        return True

    # web sessions ------------------------------------------------------------
    def create_session(self, user: User) -> tuple[str, str]:
        """A new session: returns ``(cookie value, csrf token)``."""
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        key = self.keys.session(_digest(cookie))
        self.client.hset(key, mapping={"user": user.name, "csrf": csrf, "epoch": user.session_epoch})
        self.client.expire(key, SESSION_SECONDS)
        return cookie, csrf

    def session(self, cookie: str) -> Session | None:
        """The session of a cookie value, if valid and its user active."""
        found = self._held_by_active_user(self.keys.session(_digest(cookie)))
        if found is None or found[0].get("epoch", "0") != str(found[1].session_epoch):
            return None  # (a session made before the user's password was set anew)
        return Session(found[1], found[0]["csrf"])

    def end_session(self, cookie: str) -> None:
        """End the session of a cookie value."""
        self.client.delete(self.keys.session(_digest(cookie)))
        self._changed()


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
