"""The ingest workers: they read the two ways in and drive a pipeline (alerts or assets).

- **Stream** (``{p}:alerts:inbox`` / ``{p}:assets:inbox``, field ``payload``),
  read through a consumer group. At-least-once: an entry is acknowledged only
  after its batch was handled (stored, counted as duplicate, or dead-lettered),
  so a worker killed mid-batch leaves its entries pending and the next start
  (same consumer name) or another worker (``XAUTOCLAIM`` after
  ``claim_idle_ms``) handles them again; recording is idempotent, so a replay
  makes no second record. With ``CRISIS_WAIT_REPLICAS`` set, a batch is
  acknowledged only once that many replicas confirmed its writes
  (``alerts.store.inbox.NotReplicated`` otherwise: the worker's heartbeat says
  ``retrying`` with the reason, and the entries stay pending until they do).
  While a batch is being handled its worker keeps
  its entries (``StreamInbox.keep`` every quarter of ``claim_idle_ms``), so a
  batch slower than ``claim_idle_ms`` is never claimed and handled a second
  time by a live worker's neighbour (which dead-lettered its bad payloads
  twice); only a worker that stops renewing (dead, or hung for
  ``claim_idle_ms``) loses its entries. Use this path for anything that must
  not be lost.
- **Channel** (``{p}:alerts`` / ``{p}:assets``, pub/sub). At-most-once:
  whatever is published while no worker listens is gone. For convenience
  feeds that are re-sent anyway.

An inbox entry whose ``mark`` field verifies (``trusted``: the exercise scheduler's HMAC,
``alerts.store.inject_marks``) is handed to the pipeline as ``via`` ``INJECT_VIA``; every other payload
as ``stream`` or ``channel``, and the alert pipeline strips what it claims of an exercise's injects.
A stream entry may carry ``feed``, the feed of the listener that received it
(``alerts.ingest.tak``): its payload then comes ``via`` ``feed:<name>``, the
feed it is routed to when its content names none (a marked inject is never a listener's).

A stream entry without a ``payload`` field, and an entry that was trimmed
from the stream while it sat in another consumer's pending list, become dead
letters naming the entry; nothing is dropped silently.

Each worker counts what its batches came to in its heartbeat (``count``:
``stored``, ``duplicates``, ``dead_letters``, ``skipped_older``), which
``GET /api/v1/health`` shows administrators.

Supervision (``supervised``): whatever a worker's loop raises, it is logged,
recorded in the worker's heartbeat (``alerts.store.heartbeats``) and the loop
is restarted after a back-off (0.2 s doubling to ``MAX_BACKOFF`` s). A lost
connection has its own, shorter back-off (0.2 s doubling to
``MAX_REDIS_RETRY`` s): a retry is one cheap connection attempt, and ingest
resumes within about that long of Redis answering again, however long or
often it was away (with the bug back-off, repeated Valkey deaths left it
~30 s behind). Both start again from 0.2 s after a run of a minute. A
payload never stops a worker: the pipeline dead-letters it
(``alerts.ingest.pipeline``).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from alerts.ingest.pipeline import FEED_VIA, INJECT_VIA, BatchResult, Pipeline
from alerts.store.client import UNAVAILABLE, text
from alerts.store.dead_letters import DeadLetter
from alerts.store.heartbeats import Heartbeat
from alerts.store.inbox import ChannelInbox, Entry, NotReplicated, StreamInbox

log = logging.getLogger(__name__)

#: Longest wait before a worker whose loop failed (a bug) runs it again (seconds).
MAX_BACKOFF = 30.0
#: Longest wait before a worker that lost Redis tries again (seconds).
MAX_REDIS_RETRY = 2.0


def default_consumer_name() -> str:
    """``ingest-<hostname>``: stable across restarts on one host, so a restarted worker finds
    its own pending work (the ``consumer`` setting, ``CRISIS_CONSUMER``, overrides it)."""
    return f"ingest-{socket.gethostname()}"


def count(heartbeat: Heartbeat | None, result: BatchResult | None, malformed: int = 0) -> None:
    """Add what one batch came to (``result``, plus ``malformed`` stream entries dead-lettered) to the
    worker's heartbeat figures: ``stored``, ``duplicates``, ``dead_letters``, ``skipped_older`` when
    updates older than their record were skipped (assets), and ``forwarded`` when position reports were
    handed to asset ingest (alerts)."""
    if heartbeat is None:
        return
    result = result or BatchResult()
    heartbeat.count(stored=len(result.accepted), duplicates=len(result.duplicates),
                    dead_letters=len(result.dead) + malformed)
    if result.stale:
        heartbeat.count(skipped_older=len(result.stale))
    if result.forwarded:
        heartbeat.count(forwarded=result.forwarded)


def supervised(stop: threading.Event, body: Callable[[threading.Event], None], name: str = "ingest",
               heartbeat: Heartbeat | None = None) -> None:
    """Run ``body(stop)`` until ``stop`` is set; restart it after any failure, with back-off.

    A lost connection is logged as a warning, anything else with its
    traceback; both are recorded in ``heartbeat`` (state ``retrying``). The
    heartbeat's entry is removed when the worker stops cleanly.
    """
    delay = retry = 0.2  # the back-offs after a failure (a bug) and after a lost connection
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                body(stop)
                continue
            except UNAVAILABLE as exc:
                if time.monotonic() - started > 60:  # it ran a good while: start the back-off again
                    delay = retry = 0.2
                wait, retry = retry, min(retry * 2, MAX_REDIS_RETRY)
                if isinstance(exc, NotReplicated):
                    log.warning("%s: %s; retrying in %.1fs", name, exc, wait)
                    error = f"not replicated: {exc}"
                else:
                    log.warning("%s lost Redis (%s); retrying in %.1fs", name, exc, wait)
                    error = f"Redis unavailable: {exc}"
            except Exception as exc:  # noqa: BLE001  a bug must not stop ingest for good
                if time.monotonic() - started > 60:
                    delay = retry = 0.2
                wait, delay = delay, min(delay * 2, MAX_BACKOFF)
                log.exception("%s failed; restarting in %.1fs", name, wait)
                error = f"{type(exc).__name__}: {exc}"
            if heartbeat is not None:
                heartbeat.beat("retrying", error)
            stop.wait(wait)
    finally:
        if heartbeat is not None:
            heartbeat.stop()


class _Kept:
    """While a batch is handled: its entries re-claimed by their consumer every ``every_s`` seconds, from a
    thread (``StreamInbox.keep``), so their idle time never reaches another worker's ``claim_idle_ms``."""

    def __init__(self, inbox: StreamInbox, entry_ids: list[str], every_s: float):
        self.inbox = inbox
        self.entry_ids = entry_ids
        self.every_s = every_s
        self.renewals = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"keep {inbox.stream}", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self.every_s):
            try:
                self.inbox.keep(self.entry_ids)
                self.renewals += 1
            except Exception as exc:  # noqa: BLE001  a lost connection: the batch itself will fail and retry
                log.warning("could not keep %d entries of %s: %s", len(self.entry_ids), self.inbox.stream, exc)

    def __enter__(self) -> "_Kept":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()


class StreamIngest:
    """Consumes an inbox stream through its consumer group (see the module docstring)."""

    def __init__(self, pipeline: Pipeline, inbox: StreamInbox, *, batch: int = 500, block_ms: int = 1000,
                 claim_idle_ms: int = 60_000, heartbeat: Heartbeat | None = None,
                 trusted: Callable[[bytes, bytes | None], bool] | None = None):
        self.pipeline = pipeline
        self.inbox = inbox
        #: ``trusted(payload, mark)``: whether an entry's ``mark`` proves the exercise scheduler sent it.
        self.trusted = trusted
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.heartbeat = heartbeat

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
                raw = raw if isinstance(raw, bytes) else raw.encode()
                mark = fields.get(b"mark", fields.get("mark"))
                feed = fields.get(b"feed", fields.get("feed"))
                if mark is not None and self.trusted is not None and self.trusted(raw, mark):
                    via = INJECT_VIA
                else:
                    via = f"{FEED_VIA}{text(feed)}" if feed else "stream"
                payloads.append((via, raw))
        entry_ids = [entry_id for entry_id, _ in entries]
        result = None
        with _Kept(self.inbox, entry_ids, max(self.claim_idle_ms / 4000, 0.01)):
            if payloads:
                result = self.pipeline.process(payloads)
            if malformed:
                self.pipeline.dead_letter(malformed)
        self.inbox.ack(entry_ids)
        count(self.heartbeat, result, len(malformed))
        return len(entries)

    def run(self, stop: threading.Event) -> None:
        """Recover, then consume until ``stop`` is set (supervised)."""
        supervised(stop, self._run, f"ingest of {self.inbox.stream}", self.heartbeat)

    def _beat(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.beat()

    def _run(self, stop: threading.Event) -> None:
        self.ensure_group()
        self._beat()
        self.recover()
        last_claim = time.monotonic()
        while not stop.is_set():
            self._beat()
            self.run_once()
            if time.monotonic() - last_claim > self.claim_idle_ms / 1000:
                self.recover()
                last_claim = time.monotonic()


class PubSubIngest:
    """Consumes a pub/sub channel (at-most-once; see the module docstring)."""

    def __init__(self, pipeline: Pipeline, inbox: ChannelInbox, *, batch: int = 500,
                 heartbeat: Heartbeat | None = None):
        self.pipeline = pipeline
        self.inbox = inbox
        self.batch = batch
        self.heartbeat = heartbeat

    @property
    def subscribed(self) -> threading.Event:
        """Set once the subscription is confirmed (what a producer may wait for)."""
        return self.inbox.subscribed

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set (supervised)."""
        supervised(stop, self._run, f"ingest of {self.inbox.channel}", self.heartbeat)

    def _run(self, stop: threading.Event) -> None:
        for payloads in self.inbox.batches(stop, self.batch, on_idle=self.heartbeat.beat if self.heartbeat else None):
            if self.heartbeat is not None:
                self.heartbeat.beat()
            count(self.heartbeat, self.pipeline.process([("channel", raw) for raw in payloads]))
