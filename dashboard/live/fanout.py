"""The in-process subscribers of one follower thread; each gets event batches on its own event loop.

A subscriber whose queue fills (``QUEUE_LIMIT`` batches: the browser is too
slow) is marked ``overflowed``; its stream then ends, the browser reconnects
and replays from its last event id.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

QUEUE_LIMIT = 10_000


@dataclass(eq=False)
class Subscriber:
    """One open stream: its event loop and its queue of event batches."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    overflowed: bool = False
    #: What the subscriber's batches are queued with: ``(tag, batch)`` (one queue may take several fan-outs).
    tag: int = 0

    def offer(self, events: list) -> None:
        """Queue ``(tag, events)`` (runs on the subscriber's event loop)."""
        try:
            self.queue.put_nowait((self.tag, events))
        except asyncio.QueueFull:
            self.overflowed = True


class FanOut:
    """Hands batches from the follower thread to every subscriber."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()

    def subscribe(self, queue: asyncio.Queue | None = None, tag: int = 0) -> Subscriber:
        """A new subscriber on the running event loop, queueing ``(tag, batch)`` on ``queue`` (default: its own)."""
        subscriber = Subscriber(asyncio.get_running_loop(), queue or asyncio.Queue(maxsize=QUEUE_LIMIT), tag=tag)
        with self._lock:
            self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a subscriber (its stream ended)."""
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
