"""The one stream-follow loop: a single blocking ``XREAD`` over one or more streams, forever.

Every follower (the read model of alerts, of assets, the CoT sender) is this
loop with its own handler: entries are handed over in stream order, and the
cursor of each stream moves past an entry only after its handler returned, so
a handler that raises sees the same entries again after the back-off. A lost
connection is retried with back-off (0.2 s doubling to 5 s); the loop ends
when ``stop`` is set.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from alerts.store.client import UNAVAILABLE, Client, text

log = logging.getLogger(__name__)

Handler = Callable[[list[tuple[str, dict]]], None]


class StreamFollower:
    """Follows ``streams`` (name -> handler) from ``cursors`` (name -> last id seen)."""

    def __init__(self, client: Client, handlers: dict[str, Handler], cursors: dict[str, str], *,
                 block_ms: int = 2000, count: int = 1000, name: str = "follower",
                 on_state: Callable[[str | None], None] | None = None):
        self.client = client
        self.handlers = dict(handlers)
        self.cursors = dict(cursors)
        self.block_ms = block_ms
        self.count = count
        self.name = name
        self.on_state = on_state

    def step(self) -> int:
        """One ``XREAD`` (blocking up to ``block_ms``) and its handling; returns the entries handled."""
        reply = self.client.xread(self.cursors, count=self.count, block=self.block_ms) or []
        handled = 0
        for stream, entries in reply:
            stream = text(stream)
            batch = [(text(eid), fields) for eid, fields in entries]
            self.handlers[stream](batch)
            self.cursors[stream] = batch[-1][0]
            handled += len(batch)
        return handled

    def run(self, stop: threading.Event) -> None:
        """``step`` until ``stop`` is set, riding out lost connections and failing handlers."""
        delay = 0.2
        failing = False
        while not stop.is_set():
            try:
                if failing:
                    self.client.ping()
                    self._state(None)
                self.step()
                failing = False
                self._state(None)
                delay = 0.2
            except UNAVAILABLE as exc:
                failing = True
                self._state(f"Redis unreachable: {exc}")
                log.warning("%s lost Redis (%s); retrying in %.1fs", self.name, exc, delay)
            except Exception:  # noqa: BLE001  a bad entry must not stop following for good
                log.exception("%s failed; retrying in %.1fs", self.name, delay)
            else:
                continue
            stop.wait(delay)
            delay = min(delay * 2, 5.0)

    def _state(self, error: str | None) -> None:
        if self.on_state is not None:
            self.on_state(error)
