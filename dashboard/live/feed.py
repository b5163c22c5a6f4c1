"""The live feed of one server process: one follower of both events streams, two fan-outs.

``bootstrap`` loads every stored alert and asset into the process's read
models (taking each stream's cursor first, so nothing slips between);
``start`` runs one ``StreamFollower`` thread (one blocking ``XREAD`` over
``{p}:events`` and ``{p}:assets:events``, however many pages are open) that
applies each event to its read model and hands the new ones to the
``alerts`` or ``assets`` fan-out. Events already applied (a replay) are not
handed on.

Degraded mode: given an ``Outage``, the follower reports to it whether Redis
answers, and every change of it is handed to both fan-outs as a ``LiveStatus``
(each open stream sends it as an SSE ``status`` event, ``dashboard.live.sse``).
While Redis is away the follower keeps its cursors; when it is back it reads on
from them, so the read models and the open streams miss nothing. Given a
``Supervisor``, the follower runs as its supervised thread ``live-feed``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from alerts.actions.band import band_signature
from alerts.actions.centre import Centre
from alerts.store.alerts import parse_event
from alerts.store.assets import parse_asset_event
from alerts.store.client import UNAVAILABLE, Client
from alerts.store.follow import StreamFollower
from alerts.store.keys import Keys
from dashboard.heap import give_back_freed_memory
from dashboard.live.fanout import FanOut
from dashboard.outage import LiveStatus, Outage
from dashboard.supervisor import Supervisor


@dataclass(frozen=True)
class BandChanged:
    """Some page's EXERCISE band may read differently now: ``signature`` is ``band_signature`` after."""

    signature: str


class LiveFeed:
    """Keeps ``centre.index`` and ``centre.asset_index`` current and fans their events out.

    ``block_ms``: how long one read waits for new events (milliseconds); a stop waits at most that long for
    the read under way (an idle follower costs two reads a second). ``band_every``: how often (seconds) the
    band watcher reads the exercises (``alerts.actions.band.band_signature``) and, when the digest changed,
    hands a ``BandChanged`` to the ``band`` fan-out: one read per process, however many pages are open.
    """

    def __init__(self, centre: Centre, client: Client, keys: Keys, *, block_ms: int = 500,
                 outage: Outage | None = None, supervisor: Supervisor | None = None, band_every: float = 1.0):
        self.centre = centre
        self.client = client
        self.keys = keys
        self.block_ms = block_ms
        self.alerts = FanOut()
        self.assets = FanOut()
        self.band = FanOut()
        self.band_signature = ""
        self.band_every = band_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._band_thread: threading.Thread | None = None
        self.outage = outage
        self.supervisor = supervisor
        if outage is not None:
            outage.listen(self._on_outage)

    bootstrapped = False

    def bootstrap(self) -> None:
        """Fill both read models from the store (cursor first, then the records); raises what the store
        raises (``UNAVAILABLE`` while Redis is away: ``start`` then bootstraps once it is back)."""
        centre = self.centre
        cursor = centre.alerts.last_event_id()
        centre.index.load(centre.alerts.all_alerts(), cursor)
        cursor = centre.assets.last_event_id()
        centre.asset_index.load(centre.assets.all(), cursor)
        self.bootstrapped = True
        give_back_freed_memory()

    def watch_band(self, stop: threading.Event) -> None:
        """The band watcher's loop (see the class docstring), until ``stop``; Redis away: it waits."""
        while not stop.is_set():
            try:
                signature = band_signature(self.centre)
            except UNAVAILABLE:
                signature = None
            if signature is not None and signature != self.band_signature:
                self.band_signature = signature
                self.band.publish([BandChanged(signature)])
            stop.wait(self.band_every)

    def start(self) -> None:
        """Start following (a daemon thread). Without a ``bootstrap`` yet (Redis was away when the server
        started), the thread bootstraps first, retrying every second and reporting the outage meanwhile,
        so a server started during a Redis outage comes up and goes live by itself."""
        if self.supervisor is not None:
            self._thread = self.supervisor.start("live-feed", self._follow, self._stop)
            self._band_thread = self.supervisor.start("band-watch", self.watch_band, self._stop, critical=False)
            return
        self._thread = threading.Thread(target=self._follow, args=(self._stop,), name="live-feed", daemon=True)
        self._thread.start()
        self._band_thread = threading.Thread(target=self.watch_band, args=(self._stop,), name="band-watch",
                                             daemon=True)
        self._band_thread.start()

    def _follow(self, stop: threading.Event) -> None:
        waited = False
        while not self.bootstrapped and not stop.is_set():
            try:
                self.bootstrap()
            except UNAVAILABLE as error:
                waited = True
                if self.outage is not None:
                    self.outage.failed(f"{type(error).__name__}: {error}")
                stop.wait(1.0)
        if waited and self.bootstrapped and self.outage is not None:
            self.outage.recovered()  # the read models loaded at last (a restart of the follower says nothing)
        follower = StreamFollower(
            self.client,
            {self.keys.events: self._on_alert_events, self.keys.assets_events: self._on_asset_events},
            {self.keys.events: self.centre.index.cursor, self.keys.assets_events: self.centre.asset_index.cursor},
            block_ms=self.block_ms, name="live feed", on_state=self._on_state if self.outage else None)
        follower.run(stop)

    def stop(self) -> None:
        """Stop following (waits for the current read to end)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.block_ms / 1000 + 2)
        if self._band_thread is not None:
            self._band_thread.join(timeout=self.band_every + 2)

    @property
    def subscriber_count(self) -> int:
        """Open live streams in this process (alerts and assets)."""
        return len(self.alerts) + len(self.assets)

    def _on_state(self, error: str | None) -> None:
        if error is None:
            self.outage.recovered()
        else:
            self.outage.failed(error)

    def _on_outage(self, snapshot: dict) -> None:
        status = LiveStatus(snapshot)
        self.alerts.publish([status])
        self.assets.publish([status])

    def _on_alert_events(self, entries: list[tuple[str, dict]]) -> None:
        events = [parse_event(entry_id, fields) for entry_id, fields in entries]
        fresh = [event for event in events if self.centre.index.apply(event)]
        if fresh:
            self.alerts.publish(fresh)

    def _on_asset_events(self, entries: list[tuple[str, dict]]) -> None:
        events = [parse_asset_event(entry_id, fields) for entry_id, fields in entries]
        fresh = [event for event in events if self.centre.asset_index.apply(event)]
        if fresh:
            self.assets.publish(fresh)
