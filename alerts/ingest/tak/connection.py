"""One TAK stream connection, read to its end: frame, answer control messages, store the rest.

Shared by the listener (a TAK client connected to us) and the bridge (we
connected to a TAK server). ``pump`` reads at most ``Limits.read_size``
bytes at a time, frames them (``alerts.ingest.tak.framing``) and awaits the
inbox writer before it reads again (back-pressure, see
``alerts.ingest.tak.inbox``). It ends, and says why, when the peer closes,
when nothing arrives for ``Limits.read_timeout`` seconds (TAK clients ping
well within a minute), or when a message is over ``Limits.max_message_bytes``
or its length prefix is broken: the messages framed before it are stored
first, then the connection is closed, logged and counted.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.formats.payload import DEFAULT_MAX_BYTES
from alerts.ingest.tak.framing import Framer, control_kind, response_event
from alerts.ingest.tak.inbox import InboxWriter

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The current time, UTC (the default clock of control messages)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Limits:
    """The listener's and bridge's limits (seconds and bytes)."""

    max_connections: int = 200  # open TCP and TLS connections in all; one more is closed at once
    read_timeout: float = 120.0  # a connection silent this long is closed
    max_message_bytes: int = DEFAULT_MAX_BYTES  # one message (XML event or protobuf message)
    read_size: int = 65_536  # bytes read from a socket at a time


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, inbox: InboxWriter, limits: Limits,
               peer: str, clock: Callable[[], datetime] = utc_now) -> str:
    """Read one connection until it ends; returns why: ``closed``, ``timeout``, ``oversized`` or ``broken``."""
    framer = Framer(limits.max_message_bytes)
    counters = inbox.counters
    while True:
        try:
            data = await asyncio.wait_for(reader.read(limits.read_size), limits.read_timeout)
        except TimeoutError:
            counters.timeouts += 1
            log.info("TAK connection %s closed: nothing received for %.0f s", peer, limits.read_timeout)
            return "timeout"
        except (ConnectionError, OSError) as exc:
            log.info("TAK connection %s lost: %s", peer, exc)
            return "closed"
        if not data:
            return "closed"
        payloads = []
        for message in framer.feed(data):
            kind = control_kind(message)
            if kind is None:
                payloads.append(message)
                continue
            counters.control += 1
            if kind == "t-x-takp-q":
                writer.write(response_event(clock()))
        if payloads:
            await inbox.put(payloads)
        if framer.error is not None:
            oversized = framer.oversized
            if oversized:
                counters.oversized += 1
            else:
                counters.broken += 1
            log.warning("TAK connection %s closed: %s", peer, framer.error)
            return "oversized" if oversized else "broken"
