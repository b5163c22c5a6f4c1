"""Building the CoT listener and the TAK server bridge from settings and flags (``serve``, ``cot listen``,
``cot subscribe``).

The feed must be a ``[[feeds]]`` entry of the registry (``CRISIS_FEEDS``) and
the TLS files must load: every problem is a ``ValueError`` naming the flag or
variable, raised before anything listens (the commands exit with it).
"""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from alerts.actions.centre import Centre
from alerts.core.feeds import FeedRegistry
from alerts.ingest.tak.connection import Limits
from alerts.ingest.tak.inbox import InboxWriter
from alerts.ingest.tak.listener import Address, CotListener, Endpoints, parse_address, tls_context
from alerts.ingest.workers import default_consumer_name
from alerts.store.client import Client, connect
from alerts.store.heartbeats import Heartbeat
from alerts.store.keys import Keys
from dashboard.cot_outbound import FeedOutbound, RegistryWatch
from dashboard.settings import Settings

_KINDS = ("tcp", "tls", "udp")


@dataclass(frozen=True)
class ListenSpec:
    """What to listen on, and with what (the listener's part of the settings or of the command line)."""

    feed: str
    tcp: Address | None = None
    tls: Address | None = None
    udp: Address | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    cafile: Path | None = None
    offer_protobuf: bool = False  # announce TAK protocol v1 on connect (``alerts.ingest.tak.listener.Endpoints``)


def parse_listen(text: str) -> dict[str, Address]:
    """``CRISIS_COT_LISTEN`` (``tcp=8087,udp=239.2.3.1:6969,tls=0.0.0.0:8089``) as ``{kind: (host, port)}``.

    ``ValueError`` names the part that is wrong.
    """
    found: dict[str, Address] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, equals, address = part.partition("=")
        kind = kind.strip().lower()
        if not equals or kind not in _KINDS:
            raise ValueError(f"{part!r}: expected tcp=, tls= or udp= followed by [HOST:]PORT")
        if kind in found:
            raise ValueError(f"{kind}= given twice")
        found[kind] = parse_address(address.strip())
    return found


def spec_from_settings(settings: Settings) -> ListenSpec | None:
    """The listener ``serve`` runs (None: ``CRISIS_COT_LISTEN`` is empty); ``ValueError`` naming the variable."""
    if not settings.cot_listen.strip():
        return None
    try:
        where = parse_listen(settings.cot_listen)
    except ValueError as exc:
        raise ValueError(f"CRISIS_COT_LISTEN: {exc}") from None
    if not settings.cot_feed:
        raise ValueError("CRISIS_COT_LISTEN needs CRISIS_COT_FEED (the [[feeds]] name of what it receives)")
    return ListenSpec(settings.cot_feed, **where, certfile=settings.cot_tls_certfile,
                      keyfile=settings.cot_tls_keyfile, cafile=settings.cot_tls_cafile)


def check_feed(feeds: FeedRegistry, name: str) -> str:
    """``name`` if the registry has a ``[[feeds]]`` entry of that name; else ``ValueError`` listing the known ones."""
    if feeds.get(name) is None:
        known = ", ".join(sorted(f.name for f in feeds.feeds)) or "none: set CRISIS_FEEDS to the registry file"
        raise ValueError(f"feed {name!r} is not in the feed registry (known: {known})")
    return name


def server_tls(spec: ListenSpec) -> ssl.SSLContext | None:
    """The TLS context of the ``tls`` endpoint (None without one); ``ValueError`` for missing or bad files."""
    if spec.tls is None:
        return None
    missing = [name for name, value in (("certificate", spec.certfile), ("key", spec.keyfile),
                                        ("CA", spec.cafile)) if value is None]
    if missing:
        raise ValueError(f"the TLS endpoint needs a {', '.join(missing)} file (client certificates are required)")
    try:
        return tls_context(spec.certfile, spec.keyfile, spec.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"TLS files of the CoT listener cannot be used: {exc}") from None


def limits_of(settings: Settings) -> Limits:
    """The listener's limits from the settings (connections, timeouts, byte budgets, the ingest payload limit).
    Raises ``ValueError`` for a byte budget under 64 KiB per second."""
    return Limits(max_connections=settings.cot_max_connections, max_per_address=settings.cot_max_per_address,
                  read_timeout=settings.cot_read_timeout_seconds,
                  message_timeout=settings.cot_message_timeout_seconds, max_message_bytes=settings.max_payload_bytes,
                  address_bytes_per_second=settings.cot_address_bytes_per_second,
                  endpoint_bytes_per_second=settings.cot_endpoint_bytes_per_second)


def build_listener(spec: ListenSpec, settings: Settings, client: Client, feeds: FeedRegistry,
                   centre: Centre | None = None) -> CotListener:
    """A ready-to-run listener for ``spec``; ``ValueError`` (feed, TLS, nothing to listen on) before any bind.

    It beats under ``<consumer>/<pid>/cot-listener`` (``GET /api/v1/health``), like the ingest workers.
    When the feed has ``outbound = true``, its TCP and TLS clients also receive the centre's picture
    (``dashboard.cot_outbound``; ``centre`` is then required: ``ValueError`` without it).
    """
    if not (spec.tcp or spec.tls or spec.udp):
        raise ValueError("nothing to listen on: give a TCP port, a TLS port or a UDP address")
    keys = Keys(settings.prefix)
    inbox = InboxWriter(client, keys, check_feed(feeds, spec.feed))
    outbound = None
    if feeds.get(spec.feed).outbound:
        if centre is None:
            raise ValueError(f"feed {spec.feed!r} has outbound = true but no centre was given")
        rights = RegistryWatch(feeds, spec.feed, settings.feeds_file, settings.scheme)
        # Each outbound stream holds a connection for its blocking reads: a pool of their own, one per
        # connection the listener admits, so a full listener never takes the connections ingest, the API and
        # the leases need (redis-py 8 pools hold at most 100 by default).
        followers = connect(settings.redis_url, timeout=settings.redis_timeout_seconds,
                            max_connections=limits_of(settings).max_connections + 1)
        outbound = FeedOutbound(centre, followers, keys, rights)
    endpoints = Endpoints(tcp=spec.tcp, tls=spec.tls, udp=spec.udp, tls_context=server_tls(spec),
                          offer_protobuf=spec.offer_protobuf)
    consumer = settings.consumer or default_consumer_name()
    heartbeat = Heartbeat(client, keys, f"{consumer}/{os.getpid()}/cot-listener", stream="")
    return CotListener(inbox, endpoints, limits_of(settings), heartbeat=heartbeat, outbound=outbound)
