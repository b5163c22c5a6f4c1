"""The in-process subscribers of one follower thread; each gets event batches on its own event loop.

``FanOut.publish`` wraps what the follower hands on in a ``Batch``: its
events, when it was published (the fan-out's ``clock``, monotonic seconds),
and the frames built for it so far. One ``Batch`` object goes to every
subscriber, so the streams of one group of viewers (``Batch.frames``: same
group key, ``dashboard.live.sse.Source.key``) share each event's frame: the
first stream of the group that reaches the event builds it, the others reuse
the same text.

Each open stream reads one ``Inbox`` (however many fan-outs feed it), bounded
two ways, so a slow browser never costs the server more than a bounded
backlog, and never slows the other streams (each has its own inbox; the
follower only appends):

- **by size**: past ``QUEUE_LIMIT`` waiting batches the inbox is
  ``overflowed``: its backlog is dropped and the stream ends; the browser
  reconnects and replays from its last event id.
- **by age**: once the oldest waiting batch was published more than
  ``max_lag`` seconds ago (default ``MAX_LAG_SECONDS``;
  ``CRISIS_LIVE_MAX_LAG``) the inbox is ``behind``: its backlog is dropped at
  once (when the next batch arrives, or when the stream next reads) and the
  stream sends ``event: rebuild`` and ends, so the page rebuilds its picture
  instead of working through an ever older backlog.

Once overflowed, behind or ``stopped`` (superseded, or the server stops) an
inbox takes nothing more.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

#: Most batches waiting in one stream's inbox (the follower publishes up to ~10 a second).
QUEUE_LIMIT = 10_000
#: Default seconds a stream may fall behind the live feed before it is told to rebuild (``CRISIS_LIVE_MAX_LAG``).
MAX_LAG_SECONDS = 30.0

Clock = Callable[[], float]


@dataclass(eq=False)
class Batch:
    """Events the follower read together, published at ``published`` (fan-out clock, seconds).

    ``frames`` holds, per group key, what each event of the batch is sent as to that group: built once, by the
    first stream of the group that needs it (``dashboard.live.sse``), then shared."""

    events: list
    published: float
    frames: dict[Hashable, dict] = field(default_factory=dict, repr=False)

    def frames_of(self, key: Hashable) -> dict:
        """The frames of group ``key`` (event index -> frame), shared by every stream of the group."""
        try:
            return self.frames[key]
        except KeyError:
            return self.frames.setdefault(key, {})


class Inbox:
    """The batches waiting for one stream, as ``(tag, Batch)``, bounded by count and by age (module docstring).

    Used on the stream's event loop only. ``clock`` (monotonic seconds) must be the clock of the fan-outs that
    feed it."""

    def __init__(self, limit: int = QUEUE_LIMIT, max_lag: float = MAX_LAG_SECONDS, clock: Clock = time.monotonic):
        if max_lag <= 0:
            raise ValueError("max_lag must be above 0 seconds")
        self.limit = limit
        self.max_lag = max_lag
        self.clock = clock
        self._items: deque[tuple[int, Batch]] = deque()
        self._ready = asyncio.Event()
        #: More than ``limit`` batches waited: the backlog was dropped, the stream ends (the browser replays).
        self.overflowed = False
        #: A batch waited more than ``max_lag`` seconds: the backlog was dropped, the stream sends ``rebuild``.
        self.behind = False
        #: Superseded, or the server stops: the stream ends (see ``dashboard.live.sse``).
        self.stopped = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        """Whether the inbox takes nothing more (overflowed, behind or stopped)."""
        return self.overflowed or self.behind or self.stopped

    def put(self, tag: int, batch: Batch) -> None:
        """Queue ``batch`` from the fan-out ``tag``; drops the backlog if the inbox is now too full or too old."""
        if self.closed:
            return
        if len(self._items) >= self.limit:
            self.overflowed = True
            self._items.clear()
        else:
            self._items.append((tag, batch))
            self._check_age()
        self._ready.set()

    def stop(self) -> None:
        """End the stream (superseded, or the server stops): wakes its reader; what waits is not sent."""
        self.stopped = True
        self._items.clear()
        self._ready.set()

    def _check_age(self) -> None:
        if self._items and self.clock() - self._items[0][1].published > self.max_lag:
            self.behind = True
            self._items.clear()

    async def get(self, timeout: float) -> tuple[int, Batch] | None:
        """The next ``(tag, batch)``, waiting at most ``timeout`` seconds; None after the timeout, or at once
        when the inbox is ``closed`` (its reader checks why)."""
        self._check_age()
        if not self._items and not self.closed:
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout):  # not wait_for: it can swallow a cancellation (Python 3.11)
                    await self._ready.wait()
            except TimeoutError:
                return None
            self._check_age()
        if self.closed or not self._items:
            return None
        return self._items.popleft()


@dataclass(eq=False)
class Subscriber:
    """One stream's place on a fan-out: its event loop, its inbox, and the ``tag`` its batches are queued with
    (one inbox may take several fan-outs)."""

    loop: asyncio.AbstractEventLoop
    inbox: Inbox
    tag: int = 0

    def offer(self, batch: Batch) -> None:
        """Queue ``(tag, batch)`` (runs on the subscriber's event loop)."""
        self.inbox.put(self.tag, batch)


class FanOut:
    """Hands batches from the follower thread to every subscriber; ``clock`` stamps them (monotonic seconds)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()

    def subscribe(self, inbox: Inbox, tag: int = 0) -> Subscriber:
        """A new subscriber on the running event loop, queueing ``(tag, batch)`` in ``inbox``."""
        subscriber = Subscriber(asyncio.get_running_loop(), inbox, tag=tag)
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a subscriber (its stream ended)."""
        with self._lock:
            self._subscribers.discard(subscriber)

    def __len__(self) -> int:
        return len(self._subscribers)

    @property
    def waiting(self) -> int:
        """Batches waiting in the inboxes of this fan-out's subscribers, in all."""
        with self._lock:
            return sum(len(subscriber.inbox) for subscriber in self._subscribers)

    def publish(self, events: list) -> Batch:
        """Hand ``events`` to every subscriber as one ``Batch`` stamped now (called from the follower thread)."""
        batch = Batch(events, self.clock())
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, batch)
            except RuntimeError:  # its loop is closed
                self.unsubscribe(subscriber)
        return batch
