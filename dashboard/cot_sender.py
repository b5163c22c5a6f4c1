"""Streams our incidents as CoT events over TCP to a TAK server or client (``crisisdash cot send``).

On (re)connect it sends every open incident and every response asset the
configured user may see (its nation's releasability and its clearance), then, following the alert and asset events streams
(``alerts.store.follow``), every change to one: a new incident, an update, and
a closed one (resolved, cancelled or expired) as its stale event followed by
a TAK deletion (``alerts.formats.cot.encode.incident_events``), and a TAK
deletion for one whose releasability no longer includes the user. A dropped
connection is retried with back-off; after the reconnect the open incidents
are sent again and then everything that changed since the last event read
before the drop, closures included. An item that cannot be rendered is
logged and skipped; it never stops the stream.

The user is authorised again all along (``authorised``, asked before the first
event and every second or so): once it is disabled, or its role, nation or
clearance changes, the sender stops (``Revoked``) and the command exits, so a
TAK feed never outlives its user's rights (the same rule as the live streams).
"""
from __future__ import annotations

import logging
import select
import socket
import threading
from collections.abc import Callable

from alerts.actions.centre import Centre
from alerts.actions.visibility import (
    LOST,
    asset_released,
    restricted,
    shown_asset,
    sight,
)
from alerts.core.query import AlertQuery
from alerts.core.viewer import Viewer
from alerts.formats.cot.encode import stream_bytes, withdrawal_bytes
from alerts.store.alerts import parse_event
from alerts.store.assets import parse_asset_event
from alerts.store.client import UNAVAILABLE, Client
from alerts.store.follow import StreamFollower
from alerts.store.keys import Keys

log = logging.getLogger(__name__)


class Revoked(Exception):
    """The sender's user may no longer receive this feed (disabled, or its rights changed)."""


class CotSender:
    """One TCP connection's worth of CoT for the incidents and assets ``viewer`` may see; ``authorised()``
    says whether that is still so (default: always)."""

    def __init__(self, centre: Centre, client: Client, keys: Keys, host: str, port: int, viewer: Viewer,
                 authorised: Callable[[], bool] = lambda: True):
        self.authorised = authorised
        self.centre = centre
        self.client = client
        self.keys = keys
        self.address = (host, port)
        self.viewer = viewer
        self.released = restricted(centre, self.viewer)
        self.sent = 0
        #: Where following resumes after a reconnect (None until the first connection).
        self.cursors: dict[str, str] | None = None

    def run(self, stop: threading.Event) -> None:
        """Connect, send, follow; reconnect with back-off (0.5 s doubling to 10 s) until ``stop``.

        Raises ``Revoked`` as soon as the user may no longer receive the feed."""
        delay = 0.5
        while not stop.is_set():
            if not self.authorised():
                raise Revoked(f"{self.viewer.name} may no longer receive this feed")
            try:
                with socket.create_connection(self.address, timeout=10) as connection:
                    delay = 0.5
                    self._stream(connection, stop)
            except (OSError, *UNAVAILABLE) as exc:
                log.warning("CoT sender: %s; retrying in %.1fs", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _check_authorised(self) -> None:
        if not self.authorised():
            raise Revoked(f"{self.viewer.name} may no longer receive this feed")

    def _stream(self, connection: socket.socket, stop: threading.Event) -> None:
        self._check_authorised()
        if self.cursors is None:
            self.cursors = {self.keys.events: self.centre.alerts.last_event_id(),
                            self.keys.assets_events: self.centre.assets.last_event_id()}
        open_ = restricted(self.centre, self.viewer, AlertQuery(status="open"))
        for stored in self.centre.alerts.all_alerts():
            if open_.matches(stored):
                self._send(connection, stored)
        for asset in self.centre.assets.all():
            if asset_released(self.viewer, asset):
                self._send(connection, self._shown(asset))

        def on_alerts(entries):
            for entry_id, fields in entries:
                event = parse_event(entry_id, fields)
                seen = sight(self.released, event)
                if seen == LOST:
                    self._withdraw(connection, event.alert)  # no longer released to this user: off its TAK map
                elif seen is not None:
                    self._send(connection, event.alert)

        def on_assets(entries):
            for entry_id, fields in entries:
                asset = parse_asset_event(entry_id, fields).asset
                if asset_released(self.viewer, asset):
                    self._send(connection, self._shown(asset))

        follower = StreamFollower(self.client, {self.keys.events: on_alerts, self.keys.assets_events: on_assets},
                                  self.cursors, block_ms=1000, count=500, name="CoT sender")
        try:
            while not stop.is_set():
                self._check_authorised()
                follower.step()
        finally:
            self.cursors = follower.cursors  # what a reconnect resumes from

    def _shown(self, asset):
        """The asset as the viewer may see it (``alerts.actions.visibility.shown_asset``, from the store)."""
        return shown_asset(self.centre, self.viewer, asset, lookup=self.centre.alerts.get)

    @staticmethod
    def _check_open(connection: socket.socket) -> None:
        """Raise ``ConnectionResetError`` if the peer closed the connection (what it sent us is discarded).

        A write to a closed connection can still succeed once, so the events
        written after the close would be lost: the sender looks before it follows.
        """
        while select.select([connection], [], [], 0)[0]:
            if not connection.recv(65536):
                raise ConnectionResetError("the TAK peer closed the connection")

    def _withdraw(self, connection: socket.socket, stored) -> None:
        """Delete an incident the user may no longer see from the TAK picture (a ``t-x-d-d`` for its uid)."""
        data = withdrawal_bytes(stored, self.centre.clock())
        if data:
            self._check_open(connection)
            connection.sendall(data)
            self.sent += 1

    def _send(self, connection: socket.socket, item) -> None:
        try:
            data = stream_bytes(item, self.centre.clock(), self.centre.scheme)
        except Exception:  # noqa: BLE001  one odd record must not stop the feed
            log.exception("CoT sender: could not render %r; skipped", getattr(item, "id", item))
            return
        self._check_open(connection)
        connection.sendall(data)
        self.sent += 1
