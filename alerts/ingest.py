"""The ingest worker: raw payloads in, stored alerts and dead letters out.

Two ways in, one pipeline:

- **Stream** ``{p}:alerts:inbox`` (field ``payload``), read with a consumer
  group. At-least-once: an entry is acknowledged only after its alert is
  stored (or its dead letter written), so a worker killed mid-batch leaves its
  entries pending and the next start (same consumer name) or another worker
  (``XAUTOCLAIM`` after ``claim_idle_ms``) processes them again. Recording is
  idempotent by alert id, so a replay never makes a second alert. Use this path
  for anything that must not be lost.
- **Channel** ``{p}:alerts`` (pub/sub). At-most-once: whatever is published
  while no worker listens is gone. Use it for convenience feeds that are
  re-sent anyway.

Every payload ends in exactly one place: a stored alert, a duplicate of one
(counted), or the dead-letter stream with the raw payload and the reason.
No input stops the worker.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import redis

from alerts.decode import DEFAULT_MAX_BYTES, Rejected, decode_alert
from alerts.geography import RegionIndex
from alerts.model import Alert, Placement, Status, StoredAlert
from alerts.references import close_referenced
from alerts.store import AlertStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEAD_LETTERS_MAXLEN = 1_000_000


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_consumer_name() -> str:
    """Stable across restarts on one host, so a restarted worker finds its own pending work."""
    return os.environ.get("CRISIS_CONSUMER") or f"ingest-{socket.gethostname()}"


@dataclass
class BatchResult:
    accepted: list[StoredAlert] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)  # (via, reason)


class IngestPipeline:
    """Decode, place, store, dead-letter: the work shared by every way in."""

    def __init__(
        self,
        store: AlertStore,
        regions: RegionIndex,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = utc_now,
        on_recorded: Callable[[list[StoredAlert]], None] | None = None,
    ):
        self.store = store
        self.regions = regions
        self.max_bytes = max_bytes
        self.clock = clock
        #: Called with the alerts newly recorded by each batch, before the batch
        #: is acknowledged (so its work is retried if the worker dies first).
        #: It must be idempotent: a replayed batch calls it again.
        self.on_recorded = on_recorded

    def process(self, payloads: list[tuple[str, bytes]]) -> BatchResult:
        """Handle a batch of ``(via, raw payload)``; never raises for bad input."""
        result = BatchResult()
        decoded: list[Alert] = []
        dead: list[tuple[str, bytes, str]] = []
        for via, raw in payloads:
            try:
                decoded.append(decode_alert(raw, self.max_bytes))
            except Rejected as exc:
                dead.append((via, raw, exc.reason))
            except Exception as exc:  # a bug must not lose the payload either
                log.exception("unexpected error decoding a payload")
                dead.append((via, raw, f"internal error while decoding: {type(exc).__name__}: {exc}"))
        stored = self._place(decoded, dead)
        if stored:
            for outcome, alert in zip(self.store.record_many(stored), stored):
                if outcome.duplicate:
                    result.duplicates.append(alert.id)
                else:
                    result.accepted.append(alert)
            # Both get replays of duplicates too: they may not have run before a crash.
            close_referenced(self.store, stored)
            if self.on_recorded is not None:
                self.on_recorded(stored)
        if dead:
            self.dead_letter(dead)
            result.dead = [(via, reason) for via, _, reason in dead]
        return result

    def _place(self, alerts: list[Alert], dead: list) -> list[StoredAlert]:
        if not alerts:
            return []
        points = [alert.point() for alert in alerts]
        point_placements = self.regions.place_points(
            np.array([p[0] for p in points]), np.array([p[1] for p in points])
        )
        now = self.clock()
        stored = []
        for alert, (lon, lat), placement in zip(alerts, points, point_placements):
            try:
                if alert.area is not None:
                    placement = self.regions.place_area(alert.area.geometry())
                stored.append(_stored(alert, placement, now, lon, lat))
            except Exception as exc:  # one odd geometry must not sink the batch
                log.exception("could not place alert %r", alert.id)
                raw = alert.model_dump_json().encode()
                dead.append(("placement", raw, f"could not place the alert: {type(exc).__name__}: {exc}"))
        return stored

    def dead_letter(self, dead: list[tuple[str, bytes, str]]) -> None:
        pipe = self.store.client.pipeline(transaction=False)
        at = self.clock().isoformat()
        for via, raw, reason in dead:
            pipe.xadd(
                self.store.keys.dead_letters,
                {"payload": raw, "reason": reason, "via": via, "at": at},
                maxlen=DEAD_LETTERS_MAXLEN,
                approximate=True,
            )
        pipe.execute()


def _stored(alert: Alert, placement: Placement, now: datetime, lon: float, lat: float) -> StoredAlert:
    status = Status.CANCELLED if alert.msg_type == "cancel" else Status.NEW
    return StoredAlert(alert=alert, placement=placement, received_at=now, status=status, lon=lon, lat=lat)


class StreamIngest:
    """Consumes the inbox stream through the ingest consumer group."""

    def __init__(
        self,
        pipeline: IngestPipeline,
        *,
        consumer: str | None = None,
        batch: int = 500,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        inbox: str | None = None,
        group: str | None = None,
    ):
        self.pipeline = pipeline
        self.client = pipeline.store.client
        self.keys = pipeline.store.keys
        #: The stream and consumer group read (the alert inbox unless another pipeline, e.g. assets, says).
        self.inbox = inbox or self.keys.inbox
        self.group = group or self.keys.ingest_group
        self.consumer = consumer or default_consumer_name()
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.inbox, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run_once(self, block_ms: int | None = None) -> int:
        """Read and handle one batch of new entries; returns how many were handled."""
        reply = self.client.xreadgroup(
            self.group,
            self.consumer,
            {self.inbox: ">"},
            count=self.batch,
            block=self.block_ms if block_ms is None else block_ms,
        )
        return self._handle(reply[0][1] if reply else [])

    def recover(self) -> int:
        """Handle this consumer's own pending entries, then idle ones of dead consumers."""
        handled = 0
        while True:
            reply = self.client.xreadgroup(
                self.group, self.consumer, {self.inbox: "0"}, count=self.batch
            )
            entries = reply[0][1] if reply else []
            if not entries:
                break
            handled += self._handle(entries)
        start = "0-0"
        while True:
            start, entries, _deleted = self.client.xautoclaim(
                self.inbox, self.group, self.consumer,
                min_idle_time=self.claim_idle_ms, start_id=start, count=self.batch,
            )
            handled += self._handle(entries)
            if start in (b"0-0", "0-0"):
                break
        return handled

    def _handle(self, entries: list) -> int:
        entries = [(eid, fields) for eid, fields in entries if fields is not None]
        if not entries:
            return 0
        payloads, malformed = [], []
        for _eid, fields in entries:
            raw = fields.get(b"payload", fields.get("payload"))
            if raw is None:
                names = sorted(k.decode(errors="replace") if isinstance(k, bytes) else k for k in fields)
                reason = (f"stream entry has no 'payload' field (fields: {names})" if names
                          else "stream entry is empty (trimmed from the stream before it was processed?)")
                malformed.append(("stream", repr(fields).encode(), reason))
            else:
                payloads.append(("stream", raw if isinstance(raw, bytes) else raw.encode()))
        self.pipeline.process(payloads)
        if malformed:
            self.pipeline.dead_letter(malformed)
        self.client.xack(self.inbox, self.group, *[eid for eid, _ in entries])
        return len(entries)

    def run(self, stop: threading.Event) -> None:
        self._supervised(stop, self._run)

    def _run(self, stop: threading.Event) -> None:
        self.ensure_group()
        self.recover()
        last_claim = time.monotonic()
        while not stop.is_set():
            self.run_once()
            if time.monotonic() - last_claim > self.claim_idle_ms / 1000:
                self.recover()
                last_claim = time.monotonic()

    @staticmethod
    def _supervised(stop: threading.Event, body: Callable[[threading.Event], None]) -> None:
        """Keep a worker loop alive across Redis outages."""
        delay = 0.2
        while not stop.is_set():
            try:
                body(stop)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                log.warning("ingest lost Redis (%s); retrying in %.1fs", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, 5.0)


class PubSubIngest:
    """Consumes the pub/sub channel (at-most-once; see the module docstring)."""

    def __init__(self, pipeline: IngestPipeline, *, batch: int = 500, channel: str | None = None):
        self.pipeline = pipeline
        self.client = pipeline.store.client
        self.keys = pipeline.store.keys
        self.batch = batch
        self.channel = channel or self.keys.alerts_channel
        self.subscribed = threading.Event()

    def run(self, stop: threading.Event) -> None:
        StreamIngest._supervised(stop, self._run)

    def _run(self, stop: threading.Event) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        try:
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message is None:
                    # The subscription is confirmed once a get_message round has run.
                    self.subscribed.set()
                    continue
                payloads = [("channel", message["data"])]
                while len(payloads) < self.batch:
                    more = pubsub.get_message(timeout=0)
                    if more is None:
                        break
                    payloads.append(("channel", more["data"]))
                self.pipeline.process(payloads)
        finally:
            self.subscribed.clear()
            pubsub.close()
