"""The CoT listener's outbound stream: the centre's picture back to the TAK clients of a feed with ``outbound``.

``FeedOutbound`` is the listener's ``OutboundFactory``
(``alerts.ingest.tak.outbound``): for each TCP or TLS connection it gives a
``CotPicture`` (``alerts.actions.cot_picture``, the same events as ``cot
send``) for the feed's viewer (``feed_viewer``: ``feed:<name>``, the feed's
nation and clearance), and records ``export.cot`` (subject ``tak-outbound``)
in the audit trail under that name, with the peer's address and the subject of
its TLS client certificate. None (receive only) when the feed has no
``outbound = true``, and for a plain TCP connection from anywhere but this
host (loopback: a local relay or TLS terminator): TCP carries no identity, so
a picture sent on it would reach whoever can reach the port. Remote devices
receive it over TLS, with a client certificate of the feed's CA.

The feed's rights are looked up again about every second of a stream
(``RegistryWatch``: the registry file is read again when it changed on disk):
once the feed is gone, its ``outbound`` is off, or its nation or clearance
changed, or the file no longer loads, the stream stops (``Revoked``) and the
connection is closed; the client's reconnect gets the new rights. Turning
``outbound`` on for a feed that had it off takes a restart of the listener.
"""
from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path

from alerts.actions.centre import Centre
from alerts.actions.cot_picture import CotPicture, Openings, feed_viewer
from alerts.core.events import CotExported
from alerts.core.feeds import Feed, FeedFileError, FeedRegistry
from alerts.core.markings import Classifications
from alerts.ingest.tak.outbound import Peer
from alerts.store.alerts import AlertStore
from alerts.store.assets import AssetStore
from alerts.store.client import Client
from alerts.store.keys import Keys

log = logging.getLogger(__name__)


class RegistryWatch:
    """The current entry of one feed: from ``registry``, or from ``path`` read again whenever its size or
    modification time changed (None: no such feed now, or the file does not load, logged)."""

    def __init__(self, registry: FeedRegistry, name: str, path: Path | None, scheme: Classifications):
        self.name = name
        self.path = path
        self.scheme = scheme
        self._feed = registry.get(name)
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = os.stat(self.path)
        except OSError:
            return (-1, -1)
        return (stat.st_size, stat.st_mtime_ns)

    def __call__(self) -> Feed | None:
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._feed = FeedRegistry.load(self.path, self.scheme).get(self.name)
            except FeedFileError as exc:
                log.error("feed registry changed and does not load (%s): outbound TAK streams stop", exc)
                self._feed = None
        return self._feed


class FeedOutbound:
    """Per TAK connection: the feed's ``CotPicture`` (audited), or None without ``outbound`` (module docstring)."""

    def __init__(self, centre: Centre, client: Client, keys: Keys, rights: RegistryWatch):
        self.centre = centre
        self.client = client
        self.keys = keys
        self.rights = rights
        self.openings = Openings(AlertStore(client, keys), AssetStore(client, keys))  # shared (see Openings)

    def __call__(self, peer: Peer) -> CotPicture | None:
        feed = self.rights()
        if feed is None or not feed.outbound:
            return None
        if peer.via != "tls" and not _loopback(peer.host):
            log.warning("CoT outbound of feed %s not sent to %s:%s: plain TCP carries no identity (receive only; "
                        "remote devices receive the picture over TLS)", feed.name, peer.via, peer.address)
            return None
        viewer = feed_viewer(feed, self.centre.scheme)
        where = f"{peer.via}:{peer.address}" + (f" ({peer.certificate})" if peer.certificate else "")
        self.centre.audit.record(viewer.name, CotExported("tak-outbound", query=where), ip=peer.host)
        log.info("CoT outbound to %s as %s (%s, cleared %s)", where, viewer.name, viewer.nation, viewer.clearance)

        def authorised() -> bool:
            now = self.rights()
            return now is not None and now.outbound and feed_viewer(now, self.centre.scheme) == viewer

        return CotPicture(self.centre, self.client, self.keys, viewer, authorised, self.openings)


def _loopback(host: str) -> bool:
    """Whether ``host`` (an address as the socket gives it, IPv4 or IPv6, maybe IPv4-mapped) is this host's."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback
