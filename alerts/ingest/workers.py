"""The ingest workers: they read the two ways in and drive a pipeline (alerts or assets).

- **Stream** (``{p}:alerts:inbox`` / ``{p}:assets:inbox``, field ``payload``),
  read through a consumer group. At-least-once: an entry is acknowledged only
  after its batch was handled (stored, counted as duplicate, or dead-lettered),
  so a worker killed mid-batch leaves its entries pending and the next start
  (same consumer name) or another worker (``XAUTOCLAIM`` after
  ``claim_idle_ms``) handles them again; recording is idempotent, so a replay
  makes no second record. Use this path for anything that must not be lost.
- **Channel** (``{p}:alerts`` / ``{p}:assets``, pub/sub). At-most-once:
  whatever is published while no worker listens is gone. For convenience
  feeds that are re-sent anyway.

A stream entry without a ``payload`` field, and an entry that was trimmed
from the stream while it sat in another consumer's pending list, become dead
letters naming the entry; nothing is dropped silently. A lost connection is
waited out with back-off (``supervised``).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from alerts.ingest.pipeline import Pipeline
from alerts.store.client import UNAVAILABLE, text
from alerts.store.dead_letters import DeadLetter
from alerts.store.inbox import ChannelInbox, Entry, StreamInbox

log = logging.getLogger(__name__)


def default_consumer_name() -> str:
    """``ingest-<hostname>``: stable across restarts on one host, so a restarted worker finds
    its own pending work (the ``consumer`` setting, ``CRISIS_CONSUMER``, overrides it)."""
    return f"ingest-{socket.gethostname()}"


def supervised(stop: threading.Event, body: Callable[[threading.Event], None], name: str = "ingest") -> None:
    """Run ``body(stop)`` until ``stop`` is set, waiting out lost connections (0.2 s doubling to 5 s)."""
    delay = 0.2
    while not stop.is_set():
        try:
            body(stop)
        except UNAVAILABLE as exc:
            log.warning("%s lost Redis (%s); retrying in %.1fs", name, exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, 5.0)


class StreamIngest:
    """Consumes an inbox stream through its consumer group (see the module docstring)."""

    def __init__(self, pipeline: Pipeline, inbox: StreamInbox, *, batch: int = 500, block_ms: int = 1000,
                 claim_idle_ms: int = 60_000):
        self.pipeline = pipeline
        self.inbox = inbox
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms

    def ensure_group(self) -> None:
        """Create the consumer group if it is missing."""
        self.inbox.ensure_group()

    def run_once(self, block_ms: int | None = None) -> int:
        """Read and handle one batch of new entries; returns how many were handled."""
        return self._handle(self.inbox.read_new(self.batch, self.block_ms if block_ms is None else block_ms))

    def recover(self) -> int:
        """Handle this consumer's own pending entries, then those idle under dead consumers."""
        handled = 0
        while entries := self.inbox.read_own_pending(self.batch):
            handled += self._handle(entries)
        for entries in self.inbox.claim_idle(self.claim_idle_ms, self.batch):
            handled += self._handle(entries)
        return handled

    def _handle(self, entries: list[Entry]) -> int:
        if not entries:
            return 0
        payloads, malformed = [], []
        for entry_id, fields in entries:
            if fields is None:
                malformed.append(DeadLetter("stream", entry_id.encode(),
                                            f"stream entry {entry_id} was trimmed from {self.inbox.stream} before "
                                            "it was processed (claimed from a consumer that died): its payload is lost"))
                continue
            raw = fields.get(b"payload", fields.get("payload"))
            if raw is None:
                names = sorted(text(k) for k in fields)
                reason = (f"stream entry {entry_id} has no 'payload' field (fields: {names})" if names
                          else f"stream entry {entry_id} is empty")
                malformed.append(DeadLetter("stream", repr(fields).encode(), reason))
            else:
                payloads.append(("stream", raw if isinstance(raw, bytes) else raw.encode()))
        if payloads:
            self.pipeline.process(payloads)
        if malformed:
            self.pipeline.dead_letter(malformed)
        self.inbox.ack([entry_id for entry_id, _ in entries])
        return len(entries)

    def run(self, stop: threading.Event) -> None:
        """Recover, then consume until ``stop`` is set (supervised)."""
        supervised(stop, self._run, f"ingest of {self.inbox.stream}")

    def _run(self, stop: threading.Event) -> None:
        self.ensure_group()
        self.recover()
        last_claim = time.monotonic()
        while not stop.is_set():
            self.run_once()
            if time.monotonic() - last_claim > self.claim_idle_ms / 1000:
                self.recover()
                last_claim = time.monotonic()


class PubSubIngest:
    """Consumes a pub/sub channel (at-most-once; see the module docstring)."""

    def __init__(self, pipeline: Pipeline, inbox: ChannelInbox, *, batch: int = 500):
        self.pipeline = pipeline
        self.inbox = inbox
        self.batch = batch

    @property
    def subscribed(self) -> threading.Event:
        """Set once the subscription is confirmed (what a producer may wait for)."""
        return self.inbox.subscribed

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set (supervised)."""
        supervised(stop, self._run, f"ingest of {self.inbox.channel}")

    def _run(self, stop: threading.Event) -> None:
        for payloads in self.inbox.batches(stop, self.batch):
            self.pipeline.process([("channel", raw) for raw in payloads])
