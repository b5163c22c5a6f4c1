"""How updates reach the browser: one events-stream follower per process, fanned out over SSE.

Delivery contract (what the tests check):
- Each server process runs exactly one ``FeedFollower``: a single blocking
  ``XREAD`` on the events stream, however many dashboards are open. It applies
  each event to the process's ``AlertIndex`` and hands it to every connected
  browser through an in-process queue.
- Browsers receive events as server-sent events on ``/live/alerts``. Each SSE
  ``id`` is the events-stream id. On reconnect the browser sends it back
  (``Last-Event-ID``) and the server first replays every event after it from
  the stream, so nothing is missed across a network drop or a server restart.
  Replay and live events are de-duplicated by id: each is sent at most once per
  connection, in stream order.
- Only events the viewer may see and that match the page's filters are sent
  (the same ``AlertQuery`` that built the map).
- A client whose queue overflows (too slow) is disconnected; it reconnects and
  catches up from the stream. If its cursor was trimmed from the stream it is
  told to reload (``event: reload``).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import redis

from alerts.events import ALERT_CREATED, AlertEvent, stream_id_key
from alerts.index import AlertIndex
from alerts.model import StoredAlert
from alerts.query import AlertQuery
from alerts.store import AlertStore, CursorTooOld, parse_event

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000
KEEPALIVE_SECONDS = 15.0


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    overflowed: bool = False

    def offer(self, events: list[AlertEvent]) -> None:
        # Runs on the subscriber's event loop.
        try:
            self.queue.put_nowait(events)
        except asyncio.QueueFull:
            self.overflowed = True


class FanOut:
    """The in-process subscribers of one follower thread; each gets event batches on its own loop."""

    def __init__(self) -> None:
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> _Subscriber:
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(maxsize=QUEUE_LIMIT))
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def __len__(self) -> int:
        return len(self._subscribers)

    def publish(self, events: list) -> None:
        """Hand ``events`` to every subscriber (called from the follower thread)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, events)
            except RuntimeError:  # its loop is closed
                self.unsubscribe(subscriber)


class FeedFollower:
    """Follows the events stream into the index and out to in-process subscribers."""

    def __init__(self, store: AlertStore, index: AlertIndex, *, block_ms: int = 2000):
        self.store = store
        self.index = index
        self.block_ms = block_ms
        self.fanout = FanOut()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def bootstrap(self) -> None:
        """Load every stored alert into the index (take the cursor first, so nothing slips between)."""
        cursor = self.store.last_event_id()
        self.index.load(self.store.all_alerts(), cursor)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feed-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.block_ms / 1000 + 2)

    @property
    def subscriber_count(self) -> int:
        return len(self.fanout)

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                self._follow()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.warning("live feed lost Redis (%s); retrying in %.1fs", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _follow(self) -> None:
        client = self.store.client
        while not self._stop.is_set():
            reply = client.xread({self.store.keys.events: self.index.cursor}, count=1000, block=self.block_ms)
            if not reply:
                continue
            events = [parse_event(eid, fields) for eid, fields in reply[0][1]]
            fresh = [event for event in events if self.index.apply(event)]
            if fresh:
                self.fanout.publish(fresh)


def sse_frame(event: str, data: str, event_id: str | None = None) -> str:
    """One server-sent event."""
    lines = [f"event: {event}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


async def sse_events(
    fanout: FanOut,
    load_backlog: Callable[[str], list],
    after: str,
    frame: Callable[[object], str | None],
    is_disconnected: Callable[[], "asyncio.Future[bool]"],
) -> AsyncIterator[str]:
    """The SSE body for one browser: the events after ``after`` (replayed), then live ones.

    ``frame`` turns an event into an SSE frame, or None for one this browser
    may not see. Each event goes out at most once, in stream order.
    """
    subscriber = fanout.subscribe()  # before the replay, so nothing falls between
    try:
        cursor = after
        yield "retry: 1000\n\n"
        try:
            backlog = await asyncio.to_thread(load_backlog, after)
        except CursorTooOld:
            yield sse_frame("reload", json.dumps({"reason": "cursor trimmed"}))
            return
        for event in backlog:
            cursor = event.event_id
            if (text := frame(event)) is not None:
                yield text
        while True:
            try:
                events = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                if await is_disconnected():
                    return
                yield ": keepalive\n\n"
                continue
            if subscriber.overflowed:
                return  # the browser reconnects and replays from its last id
            for event in events:
                if stream_id_key(event.event_id) <= stream_id_key(cursor):
                    continue
                cursor = event.event_id
                if (text := frame(event)) is not None:
                    yield text
    finally:
        fanout.unsubscribe(subscriber)


def alert_event_stream(
    follower: FeedFollower,
    query: AlertQuery,
    after: str,
    render: Callable[[StoredAlert], dict],
    is_disconnected: Callable[[], "asyncio.Future[bool]"],
) -> AsyncIterator[str]:
    """Alerts ``query`` matches, as ``alert`` (new) and ``update`` (changed) events."""

    def frame(event: AlertEvent) -> str | None:
        if not query.matches(event.alert):
            return None
        name = "alert" if event.kind == ALERT_CREATED else "update"
        return sse_frame(name, json.dumps(render(event.alert)), event.event_id)

    return sse_events(follower.fanout, follower.store.events_since, after, frame, is_disconnected)
