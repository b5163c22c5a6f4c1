"""Connecting to Redis or Valkey: the one place a client is made, and what "unavailable" means.

``connect`` takes a ``redis://`` (or ``rediss://``, ``unix://``) URL; every
other module receives the client it returns. ``UNAVAILABLE`` is the tuple of
exceptions that mean the server cannot be reached (a worker waits and retries
on these, and only these); ``StoreError`` is any error the server answered.
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis

#: Exceptions meaning "the server cannot be reached right now" (retry later).
UNAVAILABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError, OSError)
#: Any error from the store (an answered error, or unreachable).
StoreError = redis.RedisError
#: The client type every adapter takes.
Client = redis.Redis


def connect(url: str, *, timeout: float | None = None, health_check_interval: int = 30,
            retry_on_timeout: bool = True) -> redis.Redis:
    """A client for ``url``; ``timeout`` (seconds) bounds each command's socket wait and each connection
    attempt (None: none), so a server that stops answering (a hung process, a lost route) raises
    ``redis.TimeoutError`` (in ``UNAVAILABLE``) instead of blocking its caller for good.

    Blocking reads (``XREAD BLOCK``) need no timeout, or one longer than their block.
    """
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                health_check_interval=health_check_interval, retry_on_timeout=retry_on_timeout)


def text(value: bytes | str) -> str:
    """A reply value as text (replies are bytes unless the client decodes them)."""
    return value.decode() if isinstance(value, bytes) else str(value)



def shown_url(url: str) -> str:
    """``url`` fit for a log line or a banner: its password (and a user name's secret part) replaced by
    ``***``, e.g. ``redis://:s3cret@host:6379/0`` -> ``redis://:***@host:6379/0``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
