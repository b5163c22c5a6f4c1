"""Where the TAK listener and bridge put what they read: the durable alert inbox stream, tagged with the feed.

``InboxWriter.put`` is awaited by the connection that read the messages, so a
connection reads nothing more until its messages are in Redis: when Redis is
slow the sockets stop being read, the peers' TCP windows fill and they wait
(back-pressure); nothing read is dropped. While Redis cannot be reached at all
(``alerts.store.client.UNAVAILABLE``) ``put`` retries the same batch with
back-off (``backoff`` doubling up to ``backoff_max`` seconds) until it is
stored or the process stops (then the batch held is logged as an error with
its size: the one way a message read can be lost is stopping the listener
while Redis is gone). Delivery is at least once: a batch whose
``XADD`` reply was lost is sent again, and ingest recognises the copies by
their identity.

The Redis calls run in a worker thread (``asyncio.to_thread``), so the event
loop keeps serving the other connections meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from alerts.store.client import UNAVAILABLE, Client
from alerts.store.dead_letters import DeadLetter, DeadLetters
from alerts.store.keys import Keys
from alerts.store.producer import send_from_feed

log = logging.getLogger(__name__)


@dataclass
class Counters:
    """What a listener or bridge has done since it started (all counts)."""

    stored: int = 0  # messages put on the inbox stream
    control: int = 0  # pings and protocol negotiation, answered or counted, not stored
    oversized: int = 0  # connections closed (or datagrams refused) for a message over the size limit
    broken: int = 0  # connections closed for a broken protobuf length prefix
    refused: int = 0  # connections refused over the connection limits
    handshakes_failed: int = 0  # TLS connections whose handshake failed or was not done in time
    over_budget: int = 0  # UDP datagrams refused over the byte budgets (a stream waits instead)
    timeouts: int = 0  # connections closed after the read timeout
    store_retries: int = 0  # batches sent again because Redis could not be reached
    connections: int = 0  # connections accepted (or made, by the bridge)


class InboxWriter:
    """Puts framed messages on ``keys.inbox`` with field ``feed`` (see the module docstring)."""

    def __init__(self, client: Client, keys: Keys, feed: str, counters: Counters | None = None, *,
                 backoff: float = 0.2, backoff_max: float = 5.0):
        self.client = client
        self.keys = keys
        self.feed = feed
        self.counters = counters or Counters()
        self.backoff = backoff
        self.backoff_max = backoff_max
        #: Why messages are waiting for Redis right now ("" when none are).
        self.waiting = ""

    async def refuse(self, start: bytes, reason: str, at: datetime) -> None:
        """Keep a dead letter (``keys.dead_letters``, via ``feed:<name>``) for a message the listener refused
        unread (over the size limit, a broken length prefix): ``start`` is its beginning, ``reason`` why. A
        failure to write it is logged (the refusal itself is logged and counted already)."""
        letter = DeadLetter(f"feed:{self.feed}", start, reason)
        try:
            await asyncio.to_thread(DeadLetters(self.client, self.keys.dead_letters).add, [letter], at)
        except UNAVAILABLE as exc:
            log.error("could not keep the dead letter of a refused message of feed %s: %s", self.feed, exc)

    async def put(self, messages: list[bytes]) -> None:
        """Store ``messages`` in order, waiting (and retrying) for as long as Redis is unreachable."""
        wait = self.backoff
        while True:
            sending = asyncio.ensure_future(asyncio.to_thread(send_from_feed, self.client, self.keys, messages,
                                                              self.feed))
            try:
                await asyncio.shield(sending)
            except asyncio.CancelledError:
                # Stopped while the batch is on its way (its thread cannot be stopped): let it land before the
                # connection stores anything after it (what it read past this batch), or the inbox would hold
                # them out of order, and the process could exit before the thread wrote it.
                try:
                    await sending
                except UNAVAILABLE as exc:
                    log.error("stopped while storing %d message(s) of feed %s, and Redis could not be reached "
                              "(%s): they are not in the inbox", len(messages), self.feed, exc)
                else:
                    self.counters.stored += len(messages)
                raise
            except UNAVAILABLE as exc:
                self.waiting = f"inbox stream unreachable: {exc}"
                self.counters.store_retries += 1
                log.warning("inbox stream unreachable (%s); %d message(s) of feed %s held, retrying in %.1f s",
                            exc, len(messages), self.feed, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.backoff_max)
                continue
            self.counters.stored += len(messages)
            self.waiting = ""
            return
