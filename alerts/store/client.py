"""Connecting to Redis or Valkey: the one place a client is made, and what "unavailable" means.

``connect`` takes a ``redis://`` (or ``rediss://``, ``unix://``) URL, a Sentinel URL
``redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]`` (see
``sentinel_parts``), or a Redis/Valkey Cluster URL ``redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]``
(``rediss+cluster://`` with TLS; see ``cluster_parts``); every other module receives the client it returns. ``UNAVAILABLE`` is the tuple of
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

**Cluster.** ``redis+cluster://`` gives a cluster client started from the listed nodes (any of the cluster's
nodes; the rest are discovered with ``CLUSTER SLOTS``; the port defaults to 6379; no database: a cluster has
only db 0), ``rediss+cluster://`` the same over TLS to every node (``cluster_parts``: the TLS options of a
``rediss://`` URL as query arguments, e.g. ``?ssl_ca_certs=/etc/crisis/ca.pem``). It sends each command to
the primary serving its key's hash slot and follows ``MOVED`` redirections and failovers (a primary's replica
promoted by the cluster). Every key of a deployment must be in one slot, so that scripts, ``MGET``,
multi-stream ``XREAD`` and pipelines keep working: the key prefix must carry a hash tag, e.g. ``{crisis}``
(``check_prefix`` refuses one without, naming the fix). All the data then lives on one primary (and its
replicas): a cluster gives failover and fits an existing cluster, not more write throughput.

The client is a ``LazyCluster``: making it connects to nothing (like ``redis.Redis``), and the
``redis.cluster.RedisCluster`` behind it, which reads the slot map as it is made, is made on first use; until
a node answers every use raises ``ClusterUnreachable`` (``UNAVAILABLE``), so a process started while the
cluster is down runs degraded and retries like one whose single server is down. ``UNAVAILABLE`` covers the
cluster's "not now" answers too (``CLUSTERDOWN``, a slot without a primary, no node answering:
``ClusterUnreachable``).
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script
from redis.connection import Encoder
from redis.exceptions import ClusterDownError, RedisClusterException, SlotNotCoveredError
from redis.sentinel import Sentinel

from alerts.store.keys import hash_tag

#: The store client's own "cannot be reached right now": a lost or refused connection, a server that stopped
#: answering within the client's timeout, a cluster's "not now". What only the client raises, so a caller whose
#: other parts raise ``OSError`` too (the web edge: a browser gone, a missing file) knows it is Redis.
STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError,
                                                      ClusterDownError, SlotNotCoveredError)
#: Exceptions meaning "the server cannot be reached right now" (retry later): ``STORE_UNAVAILABLE`` and any
#: ``OSError`` (for a worker whose every call is the store's).
UNAVAILABLE: tuple[type[BaseException], ...] = (*STORE_UNAVAILABLE, OSError)
#: Any error from the store (an answered error, or unreachable).
StoreError = redis.RedisError


class ClusterUnreachable(redis.ConnectionError):
    """No node of the cluster answered when the client read its slot map again (after a lost node), or the
    map it read leaves slots without a primary: a lost connection for the callers (``UNAVAILABLE``). redis-py
    says ``RedisClusterException``, which is not even a ``redis.RedisError``."""


#: The scheme of a Sentinel URL.
SENTINEL_SCHEME = "redis+sentinel"
#: The scheme of a Redis/Valkey Cluster URL.
CLUSTER_SCHEME = "redis+cluster"
#: The scheme of a Redis/Valkey Cluster URL over TLS (to every node).
TLS_CLUSTER_SCHEME = "rediss+cluster"
#: The TLS options a ``rediss+cluster://`` URL takes as query arguments (those of a ``rediss://`` URL, passed
#: to every node's connection as redis-py's ``ssl_*`` arguments), each with its parser. No key passphrase
#: (``ssl_password``): a URL is shown in logs with only its password hidden (``shown_url``).
CLUSTER_TLS_OPTIONS: dict[str, Callable[[str], object]] = {
    "ssl_ca_certs": str, "ssl_ca_path": str, "ssl_certfile": str, "ssl_keyfile": str,
    "ssl_cert_reqs": lambda value: _choice(value, ("none", "optional", "required")),
    "ssl_check_hostname": lambda value: _choice(value, ("true", "false")) == "true",
}


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
    path, username, password, sentinels = _split(url, SENTINEL_SCHEME, "sentinel", 26379)
    names = [part for part in path.split("/") if part]
    if not names or len(names) > 2:
        raise ValueError("give the primary's name after the sentinels: .../MASTER_NAME[/DB]")
    try:
        db = int(names[1]) if len(names) == 2 else 0
    except ValueError:
        raise ValueError(f"database {names[1]!r} is not a number") from None
    return SentinelParts(sentinels, unquote(names[0]), db, username, password)


def _split(url: str, scheme: str, what: str, default_port: int
           ) -> tuple[str, str | None, str | None, list[tuple[str, int]]]:
    """``scheme://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...][/PATH]`` as (PATH, user, password, hosts)."""
    given, sep, rest = url.partition("://")
    if given != scheme or not sep:
        raise ValueError(f"not a {scheme}:// URL")
    netloc, _, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username, password = (unquote(user) or None), (unquote(secret) if colon else None)
    found = []
    for item in hosts.split(","):
        item = item.strip()
        if item.startswith("["):
            host, _, port = item[1:].partition("]")
            port = port.removeprefix(":")
        else:
            host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
        if not host:
            raise ValueError(f"{what} {item!r}: no host (HOST:PORT)")
        try:
            found.append((host, int(port) if port else default_port))
        except ValueError:
            raise ValueError(f"{what} {item!r}: the port is not a number") from None
    return path, username, password, found


@dataclass(frozen=True)
class ClusterParts:
    """What a ``redis+cluster://`` or ``rediss+cluster://`` URL names: startup nodes ``(host, port)``, the user
    and password of every node (None: none), whether to speak TLS to every node, and the TLS options (redis-py
    ``ssl_*`` arguments: ``CLUSTER_TLS_OPTIONS``) the URL gave."""

    nodes: list[tuple[str, int]]
    username: str | None = None
    password: str | None = None
    tls: bool = False
    tls_options: dict[str, object] = field(default_factory=dict)


def cluster_parts(url: str) -> ClusterParts:
    """Parse ``redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]`` (an IPv6 host in brackets; the port
    defaults to 6379; a trailing ``/`` or ``/0`` is allowed, no other database: a cluster has only db 0), or
    ``rediss+cluster://`` the same with TLS to every node, optionally followed by ``?NAME=VALUE&...`` of
    ``CLUSTER_TLS_OPTIONS`` (``ssl_ca_certs=PATH`` a CA file, ``ssl_certfile``/``ssl_keyfile`` a client
    certificate, ``ssl_cert_reqs=none|optional|required``, ``ssl_check_hostname=true|false``; a path
    percent-encoded where it holds ``&`` or ``#``). ``ValueError`` naming what is wrong otherwise."""
    scheme = TLS_CLUSTER_SCHEME if url.startswith(TLS_CLUSTER_SCHEME + "://") else CLUSTER_SCHEME
    url, _, query = url.partition("?")
    path, username, password, nodes = _split(url, scheme, "cluster node", 6379)
    if path.strip("/") not in ("", "0"):
        raise ValueError(f"a cluster has only database 0, not {path!r}: give the nodes only, "
                         f"{scheme}://HOST:PORT[,HOST:PORT...]")
    tls = scheme == TLS_CLUSTER_SCHEME
    options: dict[str, object] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)):
        if not tls:
            raise ValueError(f"{name!r}: a {CLUSTER_SCHEME}:// URL takes no options; TLS options need "
                             f"{TLS_CLUSTER_SCHEME}://")
        if name not in CLUSTER_TLS_OPTIONS:
            raise ValueError(f"unknown option {name!r} of a {TLS_CLUSTER_SCHEME}:// URL: give "
                             f"{', '.join(CLUSTER_TLS_OPTIONS)}")
        if not value:
            raise ValueError(f"option {name!r} has no value")
        try:
            options[name] = CLUSTER_TLS_OPTIONS[name](value)
        except ValueError as exc:
            raise ValueError(f"option {name!r}: {exc}") from None
    return ClusterParts(nodes, username, password, tls, options)


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value.lower() not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value.lower()


def is_cluster(url: str | None) -> bool:
    """Whether ``url`` is a ``redis+cluster://`` or ``rediss+cluster://`` URL."""
    return bool(url) and url.startswith((CLUSTER_SCHEME + "://", TLS_CLUSTER_SCHEME + "://"))


def check_prefix(url: str | None, prefix: str) -> None:
    """Refuse (``ValueError`` saying what to give instead) a key ``prefix`` without a hash tag for a cluster
    ``url``: every key of a deployment must hash to one slot (``alerts.store.keys.hash_tag``). Any prefix
    goes for every other URL."""
    if is_cluster(url) and hash_tag(prefix) is None:
        raise ValueError(f"Redis Cluster needs every key of the deployment in one hash slot: give a key prefix "
                         f"that is a hash tag, such as --prefix '{{{prefix or 'crisis'}}}' (CRISIS_PREFIX), "
                         f"not {prefix!r} (a tag is a non-empty name in braces, the first braces of the prefix)")


class LazyCluster:
    """A cluster's client that connects on first use: the ``redis.cluster.RedisCluster`` from ``make`` (which
    reads the slot map as it is made) is made when a command, pipeline or pub/sub first needs it, and while no
    node answers each use tries again and raises ``ClusterUnreachable`` (``UNAVAILABLE``) instead; once made it
    stays, and every attribute is its own (``client.get``, ``client.pipeline()``, ``client.get_node``...).
    Scripts are registered without it (``register_script``: the SHA-1 needs only the encoding). Threads that
    waited while another attempt failed get that attempt's failure, not one more wait each."""

    def __init__(self, make: Callable[[], RedisCluster], encoder: Encoder):
        self._make = make
        self._encoder = encoder
        self._cluster: RedisCluster | None = None
        self._lock = threading.Lock()
        self._attempts = 0
        self._failure: ClusterUnreachable | None = None

    def cluster(self) -> RedisCluster:
        """The ``RedisCluster``, made now if it was not yet; ``ClusterUnreachable`` while no node answers."""
        made = self._cluster
        if made is not None:
            return made
        attempt = self._attempts
        with self._lock:
            if self._cluster is not None:
                return self._cluster
            if self._attempts != attempt and self._failure is not None:  # failed while this thread waited
                raise ClusterUnreachable(str(self._failure))
            self._attempts += 1
            try:
                self._cluster = self._make()
            except RedisClusterException as exc:
                self._failure = ClusterUnreachable(f"Redis Cluster unreachable: {exc}")
                raise self._failure from exc
            self._failure = None
            return self._cluster

    @property
    def connected(self) -> bool:
        """Whether the ``RedisCluster`` was made (a node answered once)."""
        return self._cluster is not None

    def __getattr__(self, name: str):
        if name.startswith("_"):  # not the cluster's API (and not looked up before __init__ set them)
            raise AttributeError(name)
        return getattr(self.cluster(), name)

    def get_encoder(self) -> Encoder:
        """The encoder of the cluster's connections (what ``Script`` encodes its text with), made or not."""
        return self._encoder

    def register_script(self, script: str | bytes) -> Script:
        """A ``Script`` run through this client (made, if need be, when the script first runs)."""
        return Script(self, script)

    def close(self) -> None:
        """Close the ``RedisCluster`` if it was made."""
        if self._cluster is not None:
            self._cluster.close()

    def __repr__(self) -> str:
        return f"<LazyCluster {'connected' if self.connected else 'not connected'}>"


#: The client type every adapter takes (a single server's, or a cluster's).
Client = redis.Redis | RedisCluster | LazyCluster


def connect(url: str, *, timeout: float | None = None, health_check_interval: int = 30,
            retry_on_timeout: bool = True, max_connections: int | None = None) -> Client:
    """A client for ``url``; ``timeout`` (seconds) bounds each command's socket wait and each connection
    attempt (None: none), so a server that stops answering (a hung process, a lost route) raises
    ``redis.TimeoutError`` (in ``UNAVAILABLE``) instead of blocking its caller for good. A Sentinel URL
    gives a client of the current primary that follows failovers, a cluster URL a ``LazyCluster`` (the
    module docstring). No URL is connected to here: a server or cluster that does not answer fails the first
    command (``UNAVAILABLE``), not this call; a malformed URL raises ``ValueError``.

    Blocking reads (``XREAD BLOCK``) need no timeout, or one longer than their block.

    ``max_connections`` bounds the client's pool (None: redis-py's default, 100 per pool since redis-py 8;
    past it a command raises ``MaxConnectionsError``): a part that holds one connection per peer for long
    blocking reads (the TAK listener's outbound streams) gets a client of its own, sized to its peers, so it
    never starves the rest of the process.
    """
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
               "health_check_interval": health_check_interval, "retry_on_timeout": retry_on_timeout,
               **({"max_connections": max_connections} if max_connections else {})}
    if url.startswith(SENTINEL_SCHEME + "://"):
        parts = sentinel_parts(url)
        sentinel = Sentinel(parts.sentinels, sentinel_kwargs={"socket_timeout": timeout,
                                                              "socket_connect_timeout": timeout})
        return sentinel.master_for(parts.master, db=parts.db, username=parts.username, password=parts.password,
                                   **options)
    if is_cluster(url):
        parts = cluster_parts(url)
        for name in ("health_check_interval", "retry_on_timeout"):  # not RedisCluster options (deprecated:
            options.pop(name)                                       # its retries cover timeouts anyway)
        return LazyCluster(lambda: _cluster_client(parts, options), Encoder("utf-8", "strict", False))
    return redis.Redis.from_url(url, **options)


def cluster_options(parts: ClusterParts) -> dict[str, object]:
    """The ``RedisCluster`` arguments of ``parts`` besides the startup nodes and the timeouts: the user, the
    password, and with TLS ``ssl=True`` and the URL's TLS options (certificates verified unless it said
    ``ssl_cert_reqs=none``)."""
    options: dict[str, object] = {"username": parts.username, "password": parts.password}
    if parts.tls:
        options |= {"ssl": True, **parts.tls_options}
    return options


def _cluster_client(parts: ClusterParts, options: dict[str, object]) -> RedisCluster:
    client = RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in parts.nodes],
                          **cluster_options(parts), **options)
    _unreachable_as_connection_error(client)
    return client


def is_cluster_client(client: Client) -> bool:
    """Whether ``client`` is a cluster's (``connect`` on a cluster URL)."""
    return isinstance(client, (RedisCluster, LazyCluster))


def server_of(client: Client, key: str) -> redis.Redis:
    """A single-server client of the server that holds ``key``: ``client`` itself, or for a cluster the client
    of the primary serving ``key``'s slot (as the cluster's slot map says now). For what must run on one
    server, e.g. a write and the ``WAIT`` that counts it, on one connection of a pipeline."""
    if is_cluster_client(client):
        return client.get_redis_connection(client.get_node_from_key(key))
    return client


def _unreachable_as_connection_error(client: RedisCluster) -> None:
    """Make the slot map's re-reading (``NodesManager.initialize``: after a lost node, by the client, its
    pipelines and its pub/subs alike) raise ``ClusterUnreachable`` where redis-py raises
    ``RedisClusterException`` (no node answers, slots left uncovered)."""
    manager = client.nodes_manager
    initialize = manager.initialize

    def initialize_or_unreachable(*args, **kwargs):
        try:
            return initialize(*args, **kwargs)
        except RedisClusterException as exc:
            raise ClusterUnreachable(f"Redis Cluster unreachable: {exc}") from exc

    manager.initialize = initialize_or_unreachable


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
