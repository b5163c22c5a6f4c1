"""Assets in one server process: the in-memory registry, its follower, live fan-out, tasking.

Like alerts (``dashboard.live``), each process follows ``{p}:assets:events``
with one blocking ``XREAD`` and keeps every asset in memory; pages and the API
read that registry, and browsers get each change over server-sent events on
``/live/assets`` (event ``asset``, id = the events-stream id, replay after
``Last-Event-ID``). A viewer only ever receives assets released to its nation.
The feed is started on first use by the process's ``Services``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import redis

from alerts.asset_ingest import AssetPipeline, asset_channel_ingest, asset_stream_ingest
from alerts.asset_store import AssetEvent, AssetStore, NotAssigned, NotReady, parse_asset_event
from alerts.assets import Asset, AssetTable
from alerts.coverage import Places
from alerts.events import stream_id_key
from alerts.keys import Keys
from dashboard.live import FanOut, sse_events, sse_frame

log = logging.getLogger(__name__)

__all__ = ["AssetFeed", "NotAssigned", "NotReady", "for_services", "start_asset_ingest"]


class AssetFeed:
    def __init__(self, store: AssetStore, places: Places | None = None, *, block_ms: int = 2000):
        self.store = store
        self.places = places
        self.block_ms = block_ms
        self.cursor = "0-0"
        self._assets: dict[str, Asset] = {}
        self._table: AssetTable | None = None
        self._lock = threading.Lock()
        self.fanout = FanOut()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the registry ---
    def bootstrap(self) -> None:
        cursor = self.store.last_event_id()
        assets = self.store.all()
        with self._lock:
            self._assets = {a.id: a for a in assets}
            self._table = None
            self.cursor = cursor

    def apply(self, event: AssetEvent) -> bool:
        with self._lock:
            if stream_id_key(event.event_id) <= stream_id_key(self.cursor):
                return False
            self.cursor = event.event_id
            self._assets[event.asset.id] = event.asset
            self._table = None
            return True

    def assets(self) -> list[Asset]:
        with self._lock:
            return list(self._assets.values())

    def get(self, asset_id: str, nation: str | None) -> Asset | None:
        asset = self._assets.get(asset_id)
        return asset if asset is not None and asset.visible_to(nation) else None

    def table(self) -> AssetTable:
        """Column arrays over all assets, rebuilt only after a change."""
        with self._lock:
            if self._table is None:
                self._table = AssetTable(list(self._assets.values()))
            return self._table

    def visible(self, nation: str | None) -> list[Asset]:
        return [a for a in self.assets() if a.visible_to(nation)]

    # --- following ---
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="asset-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                reply = self.store.client.xread({self.store.keys.assets_events: self.cursor}, count=1000,
                                                block=self.block_ms)
                delay = 0.2
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.warning("asset feed lost Redis (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            if not reply:
                continue
            events = [parse_asset_event(eid, fields) for eid, fields in reply[0][1]]
            fresh = [e for e in events if self.apply(e)]
            if fresh:
                self.fanout.publish(fresh)

    # --- tasking ---
    def assign(self, asset_id: str, alert_id: str) -> Asset | None:
        changed = self.store.assign(asset_id, alert_id, datetime.now(UTC))
        return self._applied(changed)

    def release(self, asset_id: str, alert_id: str) -> Asset | None:
        changed = self.store.release(asset_id, alert_id, datetime.now(UTC))
        return self._applied(changed)

    def _applied(self, changed) -> Asset | None:
        if changed is None:
            return None
        after = changed[1]
        with self._lock:  # visible to this process at once; the follower's event then changes nothing
            self._assets[after.id] = after
            self._table = None
        return after


def asset_event_stream(feed: AssetFeed, nation: str | None, after: str,
                       render: Callable[[Asset], dict],
                       is_disconnected: Callable[[], "asyncio.Future[bool]"]) -> AsyncIterator[str]:
    """The SSE body for one browser: asset changes after ``after`` it may see."""

    def frame(event: AssetEvent) -> str | None:
        if not event.asset.visible_to(nation):
            return None
        return sse_frame("asset", json.dumps(render(event.asset)), event.event_id)

    return sse_events(feed.fanout, feed.store.events_since, after, frame, is_disconnected)


_feeds: dict[int, AssetFeed] = {}
_feeds_lock = threading.Lock()


def for_services(services) -> AssetFeed:
    """The process's asset feed for ``services`` (bootstrapped and started on first use)."""
    key = id(services)
    with _feeds_lock:
        feed = _feeds.get(key)
        if feed is None:
            feed = AssetFeed(AssetStore(services.client, services.keys),
                             Places.from_assets(services.settings.assets_dir))
            feed.bootstrap()
            feed.start()
            for old in _feeds.values():  # one Services per process: stop the feed of an earlier one
                old.stop()
            _feeds.clear()
            _feeds[key] = feed
        return feed


def start_asset_ingest(settings, stop: threading.Event) -> list[threading.Thread]:
    """The asset stream and channel workers as threads (one Redis client each)."""
    threads = []
    for name, make in (("asset-ingest-stream", asset_stream_ingest), ("asset-ingest-channel", asset_channel_ingest)):
        client = redis.Redis.from_url(settings.redis_url)
        pipeline = AssetPipeline(AssetStore(client, Keys(settings.prefix)), max_bytes=settings.max_payload_bytes)
        worker = make(pipeline)
        thread = threading.Thread(target=worker.run, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads
