"""The two ways in, as seen by an ingest worker: a stream read through a consumer group, and a channel.

- ``StreamInbox``: ``XREADGROUP`` for new entries, this consumer's pending
  entries after a restart, ``XAUTOCLAIM`` for entries a dead consumer left
  idle, ``XCLAIM ... JUSTID`` to keep a batch's entries while it is being
  handled (``keep``), ``XACK`` once handled. At-least-once. With
  ``wait_replicas`` (``CRISIS_WAIT_REPLICAS``) above 0, ``ack`` first makes
  sure everything written so far reached that many replicas (``WAIT``, see
  ``StreamInbox.replicated``); if they do not confirm in time it raises
  ``NotReplicated`` and acknowledges nothing, so the entries stay pending and
  are handled again (idempotently) once the replicas are back: an entry is
  never acknowledged while its effects exist on the primary alone.
- ``ChannelInbox``: a pub/sub subscription. At-most-once: what is published
  while nobody listens is gone (Redis pub/sub semantics).

An entry is ``(entry_id, fields)``; ``fields`` is None for an entry claimed
after it was trimmed from the stream (``XAUTOCLAIM`` lists those as deleted).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import redis

from alerts.store.client import Client, server_of, text

Entry = tuple[str, dict | None]


class NotReplicated(redis.ConnectionError):
    """Fewer replicas than required confirmed the writes before an acknowledgment (``WAIT``); the entries
    were left pending. A kind of "unavailable": workers wait and retry, as for a lost connection."""


class StreamInbox:
    """One stream read by one consumer of one consumer group.

    ``wait_replicas``: how many replicas must confirm every write made so far before ``ack`` acknowledges
    (0: no ``WAIT``); ``wait_timeout_ms``: how long ``WAIT`` may block (milliseconds); ``mark_key``: the
    hash ``replicated`` writes the last acknowledged entry id to (``Keys.replicated``; needed with
    ``wait_replicas``)."""

    def __init__(self, client: Client, stream: str, group: str, consumer: str, *, wait_replicas: int = 0,
                 wait_timeout_ms: int = 1000, mark_key: str | None = None):
        if wait_replicas and not mark_key:
            raise ValueError("waiting for replicas needs a mark key")
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        self.mark_key = mark_key

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) if missing; from the stream's start."""
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read_new(self, count: int, block_ms: int) -> list[Entry]:
        """Up to ``count`` entries never delivered to the group, waiting up to ``block_ms``."""
        reply = self.client.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms)
        return [(text(eid), fields) for eid, fields in (reply[0][1] if reply else [])]

    def read_own_pending(self, count: int) -> list[Entry]:
        """Up to ``count`` of this consumer's own delivered but unacknowledged entries."""
        reply = self.client.xreadgroup(self.group, self.consumer, {self.stream: "0"}, count=count)
        return [(text(eid), fields) for eid, fields in (reply[0][1] if reply else [])]

    def claim_idle(self, idle_ms: int, count: int) -> Iterator[list[Entry]]:
        """Batches of entries idle for ``idle_ms`` under other consumers, now claimed by this one.

        Entries trimmed from the stream meanwhile come back as ``(id, None)``:
        ``XAUTOCLAIM`` removes them from the pending list and names them.
        """
        start = "0-0"
        while True:
            reply = self.client.xautoclaim(self.stream, self.group, self.consumer, min_idle_time=idle_ms,
                                           start_id=start, count=count)
            start, entries = reply[0], reply[1]
            deleted = reply[2] if len(reply) > 2 else []
            batch: list[Entry] = [(text(eid), fields) for eid, fields in entries]
            batch += [(text(eid), None) for eid in deleted]
            yield batch
            if text(start) == "0-0":
                return

    def keep(self, entry_ids: list[str]) -> None:
        """Reset the idle time of this consumer's pending ``entry_ids`` (``XCLAIM <ids> JUSTID`` to itself), so
        that no other consumer's ``claim_idle`` takes them while they are being handled. Acknowledged ids
        are left alone (``XCLAIM`` only touches pending entries); the delivery count is not increased."""
        if entry_ids:
            self.client.xclaim(self.stream, self.group, self.consumer, 0, entry_ids, justid=True)

    def ack(self, entry_ids: list[str]) -> None:
        """Acknowledge handled entries (they leave the pending list); with ``wait_replicas``, only once
        ``replicated`` confirmed what was written for them (else ``NotReplicated``, nothing acknowledged)."""
        if entry_ids:
            if self.wait_replicas:
                self.replicated(entry_ids[-1])
            self.client.xack(self.stream, self.group, *entry_ids)

    def replicated(self, entry_id: str) -> int:
        """Block until ``wait_replicas`` replicas confirm every write this server took so far, up to
        ``wait_timeout_ms``; returns how many did, or raises ``NotReplicated`` when fewer.

        ``WAIT`` counts the writes of the connection it is sent on, and the client's other connections
        (a pool) may have made this batch's writes: so one write goes first on the same connection (the
        entry id into ``mark_key``, field the stream), which places that connection's offset past
        everything the server took before it, whichever connection sent it. On a cluster both go to the
        primary holding ``mark_key`` (every key of the deployment is in its slot: ``server_of``); one that
        answers it no longer is (``MOVED``, ``READONLY``: a failover) is ``NotReplicated`` too."""
        pipe = server_of(self.client, self.mark_key).pipeline(transaction=False)
        pipe.hset(self.mark_key, self.stream, entry_id)
        pipe.execute_command("WAIT", self.wait_replicas, self.wait_timeout_ms)
        try:
            _, reached = pipe.execute()
        except (redis.exceptions.MovedError, redis.exceptions.ReadOnlyError) as exc:  # a cluster failover
            raise NotReplicated(f"the server of {self.mark_key} is no longer its primary ({exc}): entries of "
                                f"{self.stream} up to {entry_id} left pending, to be handled again") from exc
        if int(reached) < self.wait_replicas:
            raise NotReplicated(f"{int(reached)} of {self.wait_replicas} replica(s) (CRISIS_WAIT_REPLICAS) confirmed "
                                f"the writes within {self.wait_timeout_ms} ms: entries of {self.stream} up to "
                                f"{entry_id} left pending, to be handled again")
        return int(reached)

    def pending_count(self) -> int:
        """How many entries are delivered but not yet acknowledged, over the whole group."""
        summary = self.client.xpending(self.stream, self.group)
        return int(summary["pending"]) if summary else 0


class ChannelInbox:
    """A pub/sub subscription to one channel; ``subscribed`` is set once it is confirmed."""

    def __init__(self, client: Client, channel: str):
        self.client = client
        self.channel = channel
        self.subscribed = threading.Event()

    def batches(self, stop: threading.Event, batch: int, on_idle: Callable[[], object] | None = None
                ) -> Iterator[list[bytes]]:
        """Batches of up to ``batch`` messages as they arrive, until ``stop`` is set (``on_idle`` runs
        about twice a second while nothing arrives)."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)
        try:
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message is None:
                    self.subscribed.set()  # the subscription is confirmed once a round has run
                    if on_idle is not None:
                        on_idle()
                    continue
                payloads = [message["data"]]
                while len(payloads) < batch:
                    more = pubsub.get_message(timeout=0)
                    if more is None:
                        break
                    payloads.append(more["data"])
                yield payloads
        finally:
            self.subscribed.clear()
            pubsub.close()
