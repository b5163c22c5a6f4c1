"""How many live streams one server process holds: per user and kind, and in all.

``StreamLimits.open(user, kind)`` admits a new stream (``kind`` is
``map``, ``alerts`` or ``assets``; a map tab holds one ``map`` stream) and gives its ``Lease``:

- a user who already holds ``per_user`` streams of that kind has the oldest
  of them closed first: its lease is superseded, and that stream sends
  ``event: superseded`` (``{"reason": ...}``) with ``retry:`` set to a day,
  then ends, so the browser that held it does not reconnect and push out the
  newer one in turn (WHATWG HTML, "Server-sent events": the ``retry`` field
  sets the reconnection time);
- otherwise, while the process holds ``total`` streams, a new one is refused
  with ``TooManyStreams`` (the route answers 503 with the reason and
  ``Retry-After``).

A stream releases its lease when it ends (``Lease.close``, idempotent).
When the server stops, ``StreamLimits.end_all`` ends every open stream (its
browser reconnects to whichever server answers next) and refuses new ones,
so a shutdown never waits for, or cancels, a stream that would never end.
Counts are per process (each server process has its own; streams are not
shared between processes). Thread-safe; a lease is superseded on the event
loop of its stream.
"""
from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

#: The reconnection time a superseded stream sets in its browser (ms): a day.
SUPERSEDED_RETRY_MS = 86_400_000


class TooManyStreams(Exception):
    """The process holds its ``total`` of live streams; the message says so (HTTP 503)."""


@dataclass(eq=False)
class Lease:
    """One admitted stream: whose, which kind, in what order it opened; ``superseded`` once pushed out."""

    user: str
    kind: str
    order: int
    release: Callable[["Lease"], None]
    superseded: bool = False
    #: Set when the server stops (``StreamLimits.end_all``): the stream ends quietly.
    ending: bool = False
    _wake: Callable[[], None] | None = field(default=None, repr=False)

    def on_superseded(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (on the stream's event loop) when this lease is superseded or ending (at once if it
        is)."""
        loop = asyncio.get_running_loop()
        self._wake = lambda: loop.call_soon_threadsafe(wake)
        if self.superseded or self.ending:
            self._wake()

    def end(self) -> None:
        """Mark the lease ending (the server stops) and wake its stream."""
        self.ending = True
        if self._wake is not None:
            self._wake()

    def supersede(self) -> None:
        """Mark the lease superseded and wake its stream."""
        self.superseded = True
        if self._wake is not None:
            self._wake()

    def close(self) -> None:
        """Give the stream's place back (again: nothing)."""
        self.release(self)


class StreamLimits:
    """The live streams of one process, at most ``per_user`` per user and kind and ``total`` in all."""

    def __init__(self, per_user: int, total: int):
        if per_user < 1 or total < 1:
            raise ValueError("stream limits must be at least 1")
        self.per_user = per_user
        self.total = total
        self._held: dict[tuple[str, str], list[Lease]] = {}
        self._count = 0
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._stopping = False

    def open(self, user: str, kind: str) -> Lease:
        """A lease for a new stream of ``user``; supersedes that user's oldest of ``kind`` when at the limit.

        Raises ``TooManyStreams`` when the process holds ``total`` streams and none is the user's to give up.
        """
        with self._lock:
            if self._stopping:
                raise TooManyStreams("this server is stopping; try again in a moment")
            mine = self._held.setdefault((user, kind), [])
            oldest = mine.pop(0) if len(mine) >= self.per_user else None
            if oldest is None and self._count >= self.total:
                raise TooManyStreams(f"this server holds its limit of {self.total} live streams "
                                     "(CRISIS_MAX_STREAMS); try again later")
            if oldest is None:
                self._count += 1
            lease = Lease(user, kind, next(self._order), self._release)
            mine.append(lease)
        if oldest is not None:
            oldest.supersede()
        return lease

    def end_all(self) -> int:
        """The server stops: end every open stream and refuse new ones. Returns how many were open."""
        with self._lock:
            self._stopping = True
            open_now = [lease for held in self._held.values() for lease in held]
        for lease in open_now:
            lease.end()
        return len(open_now)

    def _release(self, lease: Lease) -> None:
        with self._lock:
            mine = self._held.get((lease.user, lease.kind), [])
            if lease in mine:
                mine.remove(lease)
                self._count -= 1
                if not mine:
                    del self._held[(lease.user, lease.kind)]

    def __len__(self) -> int:
        return self._count

    def held_by(self, user: str, kind: str) -> int:
        """How many streams of ``kind`` ``user`` holds."""
        with self._lock:
            return len(self._held.get((user, kind), []))
