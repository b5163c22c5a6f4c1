"""Connecting to Redis or Valkey: the one place a client is made, and what "unavailable" means.

``connect`` takes a ``redis://`` (or ``rediss://``, ``unix://``) URL, or a Sentinel URL
``redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]`` (see
``sentinel_parts``); every other module receives the client it returns. ``UNAVAILABLE`` is the tuple of
exceptions that mean the server cannot be reached (a worker waits and retries on these, and only these);
``StoreError`` is any error the server answered.

**Sentinel.** The client asks the sentinels (in the order given, the first that answers) where the primary
of ``MASTER_NAME`` is before each new connection (``redis.sentinel.Sentinel.master_for``). After a failover
the old primary's connections fail: one killed with the server raises ``ConnectionError``, one still
answering as a demoted replica answers ``READONLY``, which redis-py turns into a ``ConnectionError`` too
(``UNAVAILABLE``) after dropping the connection; the next attempt asks the sentinels again and reaches the
new primary. Nothing else changes for the callers: they retry on ``UNAVAILABLE`` as after any lost
connection. The password (and user) of the URL are the data nodes'; the sentinels are asked without one
(``sentinel`` has no ``requirepass`` by default), with the same timeouts.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import redis
from redis.sentinel import Sentinel

#: Exceptions meaning "the server cannot be reached right now" (retry later).
UNAVAILABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)
#: Any error from the store (an answered error, or unreachable).
StoreError = redis.RedisError
#: The client type every adapter takes.
Client = redis.Redis

#: The scheme of a Sentinel URL.
SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True)
class SentinelParts:
    """What a ``redis+sentinel://`` URL names: the sentinels ``(host, port)``, the primary's name, the
    database, and the data nodes' user and password (None: none)."""

    sentinels: list[tuple[str, int]]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def sentinel_parts(url: str) -> SentinelParts:
    """Parse ``redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]`` (an IPv6 host in
    brackets, ``[::1]:26379``; the port defaults to 26379). ``ValueError`` naming what is wrong otherwise."""
    scheme, sep, rest = url.partition("://")
    if scheme != SENTINEL_SCHEME or not sep:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username, password = (unquote(user) or None), (unquote(secret) if colon else None)
    sentinels = []
    for item in hosts.split(","):
        item = item.strip()
        if item.startswith("["):
            host, _, port = item[1:].partition("]")
            port = port.removeprefix(":")
        else:
            host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        if not host:
            raise ValueError(f"sentinel {item!r}: no host (HOST:PORT)")
        try:
            sentinels.append((host, int(port) if port else 26379))
        except ValueError:
            raise ValueError(f"sentinel {item!r}: the port is not a number") from None
    names = [part for part in path.split("/") if part]
    if not names or len(names) > 2:
        raise ValueError("give the primary's name after the sentinels: .../MASTER_NAME[/DB]")
    try:
        db = int(names[1]) if len(names) == 2 else 0
    except ValueError:
        raise ValueError(f"database {names[1]!r} is not a number") from None
    return SentinelParts(sentinels, unquote(names[0]), db, username, password)


def connect(url: str, *, timeout: float | None = None, health_check_interval: int = 30,
            retry_on_timeout: bool = True) -> redis.Redis:
    """A client for ``url``; ``timeout`` (seconds) bounds each command's socket wait and each connection
    attempt (None: none), so a server that stops answering (a hung process, a lost route) raises
    ``redis.TimeoutError`` (in ``UNAVAILABLE``) instead of blocking its caller for good. A Sentinel URL
    gives a client of the current primary that follows failovers (the module docstring).

    Blocking reads (``XREAD BLOCK``) need no timeout, or one longer than their block.
    """
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
               "health_check_interval": health_check_interval, "retry_on_timeout": retry_on_timeout}
    if url.startswith(SENTINEL_SCHEME + "://"):
        parts = sentinel_parts(url)
        sentinel = Sentinel(parts.sentinels, sentinel_kwargs={"socket_timeout": timeout,
                                                              "socket_connect_timeout": timeout})
        return sentinel.master_for(parts.master, db=parts.db, username=parts.username, password=parts.password,
                                   **options)
    return redis.Redis.from_url(url, **options)


def text(value: bytes | str) -> str:
    """A reply value as text (replies are bytes unless the client decodes them)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def shown_url(url: str) -> str:
    """``url`` fit for a log line or a banner: its password (and a user name's secret part) replaced by
    ``***``, e.g. ``redis://:s3cret@host:6379/0`` -> ``redis://:***@host:6379/0`` (a Sentinel URL's list of
    hosts is kept as it is)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc or parts.password is None:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))
