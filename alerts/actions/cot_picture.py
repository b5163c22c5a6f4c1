"""The centre's picture as a viewer may see it, as a stream of CoT events (``cot send`` and the TAK listener's
outbound stream).

``CotPicture.stream(send, stop)`` hands ``send`` one CoT event (bytes) at a
time: first every open incident and every response asset the viewer may see
(its nation's releasability and its clearance), then, following the alert and
asset events streams (``alerts.store.follow``), every change to one: a new
incident, an update, and a closed one (resolved, cancelled or expired) as its
stale event followed by a TAK deletion (``alerts.formats.cot.encode``), and a
TAK deletion for one (incident or asset) whose releasability no longer includes the viewer. Called
again (a reconnect) it sends the open incidents again and then everything
that changed since the last event read before, closures included. An item
that cannot be rendered is logged and skipped; it never stops the stream.

No gap, no duplicate: the streams' cursors are taken when the picture is made
(for the TAK listener: when the connection is accepted), not when ``stream``
first reads, so whatever is published in between is followed. The opening
picture (read from the records, oldest report first) leaves out every
incident and asset with an event after the cursors (those events are read
after the records, so they cover every change the records may already show):
the follower sends those, once each and in stream order.

``authorised()`` is asked before the first event and about every second; once
it says no, ``stream`` raises ``Revoked`` (a user disabled or its rights
changed; a feed whose registry entry changed), so a TAK stream never outlives
the rights it was opened under.

The viewer of a TAK listener's outbound stream is its feed (``feed_viewer``):
the feed's ``nation`` and the feed's ``clearance`` (``alerts.core.feeds``;
unset: the deployment's lowest level), named ``feed:<name>`` in the audit trail.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from alerts.actions.centre import Centre
from alerts.actions.visibility import (
    LOST,
    asset_released,
    asset_withdrawn,
    released_now,
    restricted,
    shown_asset,
    sight,
)
from alerts.core.events import stream_id_key
from alerts.core.feeds import Feed
from alerts.core.markings import Classifications
from alerts.core.query import AlertQuery
from alerts.core.roles import Role
from alerts.core.viewer import Viewer
from alerts.formats.cot.encode import stream_bytes, withdrawal_bytes
from alerts.store.alerts import AlertStore, parse_event
from alerts.store.assets import AssetStore, parse_asset_event
from alerts.store.client import Client, text
from alerts.store.follow import StreamFollower
from alerts.store.keys import Keys

log = logging.getLogger(__name__)

Send = Callable[[bytes], None]


class Revoked(Exception):
    """The stream's viewer may no longer receive it (a user disabled, or the user's or feed's rights changed)."""


def feed_viewer(feed: Feed, scheme: Classifications) -> Viewer:
    """The viewer a feed's TAK devices are: ``feed:<name>``, the feed's nation, its clearance (default: the
    lowest level of ``scheme``); role responder (it only reads), via ``tak``."""
    return Viewer(name=f"feed:{feed.name}", role=Role.RESPONDER.value, nation=feed.nation, via="tak",
                  clearance=feed.clearance or scheme.lowest)


class Openings:
    """The records an opening picture is made of, read once for the pictures of many connections.

    A listener's devices often connect together (a unit switching on, a network coming back); each picture
    reading every record itself made that N full reads at once. A picture may use records read *after* its
    cursors were taken (those of the items without events since are as at the cursors; the others the
    follower sends), so the newest read serves every picture whose cursors do not come after the point the
    read began; a picture whose cursors do (an event since) waits for, or makes, a newer read. Thread-safe:
    one read at a time, the others wait for it.
    """

    def __init__(self, alerts: AlertStore, assets: AssetStore):
        self.alerts = alerts
        self.assets = assets
        self._lock = threading.Lock()
        self._read: tuple[dict[str, str], list, list] | None = None  # (cursors at the start, open alerts, assets)
        self.reads = 0

    def after(self, cursors: dict[str, str]) -> tuple[list, list]:
        """Every open alert and every asset, as read no earlier than ``cursors`` (stream -> last event id)."""
        with self._lock:
            if self._read is None or any(stream_id_key(self._read[0][stream]) < stream_id_key(cursor)
                                         for stream, cursor in cursors.items()):
                started = {self.alerts.keys.events: self.alerts.last_event_id(),
                           self.assets.keys.assets_events: self.assets.last_event_id()}
                self._read = (started, [stored for stored in self.alerts.all_alerts() if stored.status.is_open],
                              self.assets.all())
                self.reads += 1
            return self._read[1], self._read[2]


class CotPicture:
    """The CoT stream of what ``viewer`` may see (see the module docstring); ``sent`` counts the events sent."""

    def __init__(self, centre: Centre, client: Client, keys: Keys, viewer: Viewer,
                 authorised: Callable[[], bool] = lambda: True, openings: Openings | None = None):
        self.centre = centre
        self.client = client
        self.keys = keys
        self.viewer = viewer
        self.authorised = authorised
        # Everything the stream reads goes through ``client`` (for the listener: a pool sized to its
        # connections), not the centre's: many pictures opening at once never take the process's connections.
        self.alerts = AlertStore(client, keys)
        self.assets = AssetStore(client, keys)
        #: Where the opening picture's records come from: shared by the pictures of one listener, or its own.
        self.openings = openings or Openings(self.alerts, self.assets)
        self.released = restricted(centre, viewer)
        self.sent = 0
        #: Where following starts: the newest entry of each events stream when the picture is made; then where
        #: the next call of ``stream`` resumes (after the last event read).
        self.cursors: dict[str, str] = {keys.events: self.alerts.last_event_id(),
                                        keys.assets_events: self.assets.last_event_id()}

    def check(self) -> None:
        """Raise ``Revoked`` unless ``authorised()``."""
        if not self.authorised():
            raise Revoked(f"{self.viewer.name} may no longer receive this feed")

    def stream(self, send: Send, stop: threading.Event, block_ms: int = 1000) -> None:
        """Send the opening picture, then every change, until ``stop`` is set.

        Raises ``Revoked``; whatever ``send`` raises (``OSError`` for a lost peer) ends it too, and the
        next call resumes after the last event read (``cursors``).
        """
        self.check()
        open_ = restricted(self.centre, self.viewer, AlertQuery(status="open"))
        every_alert, every_asset = self.openings.after(self.cursors)
        alerts = [stored for stored in every_alert if open_.matches(stored)]
        assets = [asset for asset in every_asset if asset_released(self.viewer, asset)]
        changed = self._changed_since(self.cursors)  # read after the records: the follower sends these
        for stored in sorted(alerts, key=lambda stored: (stored.received_at, stored.id)):
            if stored.id not in changed[self.keys.events]:
                self._send(send, stored)
        for asset in assets:
            if asset.id not in changed[self.keys.assets_events]:
                self._send(send, self._shown(asset))

        def on_alerts(entries):
            for entry_id, fields in entries:
                event = parse_event(entry_id, fields)
                seen = sight(self.released, event)
                if seen == LOST:
                    self._withdraw(send, event.alert)  # no longer released to this viewer: off its TAK map
                elif seen is not None and released_now(self.centre, self.released, event.alert.id):
                    self._send(send, event.alert)

        def on_assets(entries):
            for entry_id, fields in entries:
                event = parse_asset_event(entry_id, fields)
                if asset_released(self.viewer, event.asset):
                    self._send(send, self._shown(event.asset))
                elif asset_withdrawn(self.released, event):
                    self._withdraw(send, event.asset)  # taken from this viewer's nation: off its TAK map

        follower = StreamFollower(self.client, {self.keys.events: on_alerts, self.keys.assets_events: on_assets},
                                  self.cursors, block_ms=block_ms, count=500, name=f"CoT picture of {self.viewer.name}")
        try:
            while not stop.is_set():
                self.check()
                follower.step()
        finally:
            self.cursors = follower.cursors  # what the next call resumes from

    def _changed_since(self, cursors: dict[str, str], count: int = 1000) -> dict[str, set[str]]:
        """Per events stream, the ids of the incidents (or assets) of its entries after ``cursors``."""
        parse = {self.keys.events: lambda eid, fields: parse_event(eid, fields).alert.id,
                 self.keys.assets_events: lambda eid, fields: parse_asset_event(eid, fields).asset.id}
        changed: dict[str, set[str]] = {}
        for stream, cursor in cursors.items():
            ids = changed[stream] = set()
            while entries := self.client.xrange(stream, min=f"({cursor}", count=count):
                ids.update(parse[stream](eid, fields) for eid, fields in entries)
                cursor = text(entries[-1][0])
        return changed

    def _shown(self, asset):
        """The asset as the viewer may see it (``alerts.actions.visibility.shown_asset``, from the store)."""
        return shown_asset(self.centre, self.viewer, asset, lookup=self.alerts.get)

    def _withdraw(self, send: Send, item) -> None:
        """Delete an incident or asset the viewer may no longer see from the TAK picture (a ``t-x-d-d`` for its
        uid)."""
        data = withdrawal_bytes(item, self.centre.clock())
        if data:
            send(data)
            self.sent += 1

    def _send(self, send: Send, item) -> None:
        try:
            data = stream_bytes(item, self.centre.clock(), self.centre.scheme)
        except Exception:  # noqa: BLE001  one odd record must not stop the feed
            log.exception("CoT picture: could not render %r; skipped", getattr(item, "id", item))
            return
        send(data)
        self.sent += 1
