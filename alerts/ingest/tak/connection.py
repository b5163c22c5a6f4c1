"""One TAK stream connection, read to its end: frame, answer control messages, store the rest.

Shared by the listener (a TAK client connected to us) and the bridge (we
connected to a TAK server). ``pump`` reads at most ``Limits.read_size``
bytes at a time, frames them (``alerts.ingest.tak.framing``) and awaits the
inbox writer before it reads again (back-pressure, see
``alerts.ingest.tak.inbox``). It ends, and says why, when the peer closes,
when nothing but white space arrives for ``Limits.read_timeout`` seconds (TAK
clients ping well within a minute), when a message begun is not complete within
``Limits.message_timeout`` seconds however slowly its bytes trickle in (a
slow-read attack holds a connection no longer than that), or when a message
is over ``Limits.max_message_bytes`` or its length prefix is broken: the
messages framed before it are stored first, then the connection is closed,
logged and counted, and a dead letter with the reason keeps the start of what
was refused (``InboxWriter.refuse``). Whatever was read of a message the connection ended in
(``Framer.flush``) is stored too, so ingest dead-letters it with the reason:
nothing read is dropped silently.
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
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

    max_connections: int = 200  # open connections per endpoint (TCP, TLS each)
    max_per_address: int = 16  # open connections from one client address, per endpoint
    #: How long a connection over either limit waits, unread, for a slot (what it sent stays in the kernel's
    #: buffers: back-pressure, as for many one-shot senders behind one NAT address); then it is closed. At most
    #: ``max_connections`` wait per endpoint: one more is closed at once.
    slot_wait: float = 10.0
    read_timeout: float = 120.0  # a connection silent this long is closed
    message_timeout: float = 30.0  # a message begun must be complete within this long
    handshake_timeout: float = 10.0  # a TLS handshake must be done within this long
    max_message_bytes: int = DEFAULT_MAX_BYTES  # one message (XML event or protobuf message)
    read_size: int = 65_536  # bytes read from a socket at a time
    #: What one client address may send an endpoint, and all its clients together, in bytes per second: past
    #: it a connection is read no further until the budget allows (back-pressure), a UDP datagram is refused
    #: (counted, logged). Plain TCP and UDP are unauthenticated: this bounds how fast one address, and all of
    #: them, can fill Redis. At least ``read_size`` each.
    address_bytes_per_second: int = 4_194_304
    endpoint_bytes_per_second: int = 16_777_216

    def __post_init__(self) -> None:
        """``ValueError`` for a limit that would refuse everything or never end (the settings are read
        here before anything listens)."""
        if min(self.address_bytes_per_second, self.endpoint_bytes_per_second) < self.read_size:
            raise ValueError(f"a CoT byte budget must be at least {self.read_size} bytes per second")
        if min(self.max_connections, self.max_per_address, self.max_message_bytes, self.read_size) < 1:
            raise ValueError("the CoT connection limits and sizes must be at least 1")
        for name in ("read_timeout", "message_timeout", "handshake_timeout", "slot_wait"):
            value = getattr(self, name)  # (a slot wait may be 0: no wait)
            if not (math.isfinite(value) and (value >= 0 if name == "slot_wait" else value > 0)):
                raise ValueError(f"the CoT {name.replace('_', ' ')} must be a positive number of seconds, not {value}")


@dataclass
class Wire:
    """What one connection's two sides have agreed to speak. TAK Protocol negotiation: once the listener
    answers a client's ``t-x-takp-q`` with ``TakResponse status="true"``, both directions are TAK Protocol
    version 1 (streaming protobuf), so what the listener writes back from then on is protobuf too."""

    protobuf: bool = False


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, inbox: InboxWriter, limits: Limits,
               peer: str, clock: Callable[[], datetime] = utc_now, wire: Wire | None = None,
               budget: Callable[[int], Awaitable[None]] | None = None) -> str:
    """Read one connection until it ends; returns why: ``closed``, ``timeout``, ``oversized`` or ``broken``.
    ``wire`` (shared with the connection's outbound side) notes an agreed switch to protobuf; ``budget(n)``
    returns once ``n`` more bytes read are within the connection's byte budget (reading waits meanwhile)."""
    framer = Framer(limits.max_message_bytes)
    loop = asyncio.get_running_loop()
    begun: float | None = None  # when the message now pending began (loop time)
    heard = loop.time()  # when the last bytes that were not white space or NULs arrived
    try:
        while True:
            wait = heard + limits.read_timeout - loop.time()  # white space alone keeps no connection open
            if begun is not None:
                wait = min(wait, begun + limits.message_timeout - loop.time())
            try:
                async with asyncio.timeout(max(wait, 0)):  # not wait_for: it can swallow a cancellation (3.11)
                    data = await reader.read(limits.read_size)
            except TimeoutError:
                inbox.counters.timeouts += 1
                if begun is not None and loop.time() >= begun + limits.message_timeout:
                    log.info("TAK connection %s closed: a message begun was not complete within %.0f s",
                             peer, limits.message_timeout)
                else:
                    log.info("TAK connection %s closed: nothing received for %.0f s", peer, limits.read_timeout)
                return "timeout"
            except (ConnectionError, OSError) as exc:
                log.info("TAK connection %s lost: %s", peer, exc)
                return "closed"
            if not data:
                return "closed"
            if budget is not None:
                await budget(len(data))  # (back-pressure: nothing more is read meanwhile)
            if data.strip(b" \t\r\n\x00"):
                heard = loop.time()
            messages = framer.feed(data)
            await _store(messages, inbox, writer, clock, wire)
            if not await _drained(writer, limits.read_timeout):
                inbox.counters.timeouts += 1
                log.warning("TAK connection %s closed: it did not read what it was sent (%d bytes) for %.0f s",
                            peer, writer.transport.get_write_buffer_size(), limits.read_timeout)
                return "timeout"
            if not framer.pending:
                begun = None
            elif messages or begun is None:
                begun = loop.time()  # the message now pending began in this read
            if framer.error is not None:
                oversized = framer.oversized
                if oversized:
                    inbox.counters.oversized += 1
                else:
                    inbox.counters.broken += 1
                log.warning("TAK connection %s closed: %s", peer, framer.error)
                await inbox.refuse(framer.refused, f"{framer.error}; the connection was closed (its framing is "
                                   f"lost), the first {len(framer.refused)} bytes are kept here", clock())
                return "oversized" if oversized else "broken"
    finally:
        left = framer.flush()
        if left:
            log.info("TAK connection %s ended inside a message: %d byte(s) stored for ingest to dead-letter", peer,
                     sum(map(len, left)))
            await _store(left, inbox, None, clock)


async def _store(messages: list[bytes], inbox: InboxWriter, writer: asyncio.StreamWriter | None,
                 clock: Callable[[], datetime], wire: Wire | None = None) -> None:
    """Count (and answer, while ``writer`` is open) the control messages; put the others on the inbox."""
    payloads = []
    for message in messages:
        kind = control_kind(message)
        if kind is None:
            payloads.append(message)
            continue
        inbox.counters.control += 1
        if kind == "t-x-takp-q" and writer is not None and not writer.is_closing():
            writer.write(response_event(clock()))  # the answer itself is the last XML written
            if wire is not None:
                wire.protobuf = True
    if payloads:
        await inbox.put(payloads)


#: What the listener lets wait unread in a connection's send buffer (answers to negotiation requests) before
#: it stops reading that connection until the client reads (``_drained``).
WRITE_BACKLOG = 65_536


async def _drained(writer: asyncio.StreamWriter, timeout: float) -> bool:
    """Whether what was written to ``writer`` is under ``WRITE_BACKLOG`` bytes, waiting (reading nothing
    meanwhile: back-pressure) up to ``timeout`` seconds for the client to read it; False: it did not, and the
    connection is to be closed (a client that sends requests and never reads their answers grew the buffer
    without bound)."""
    if writer.is_closing() or writer.transport.get_write_buffer_size() <= WRITE_BACKLOG:
        return True
    try:
        async with asyncio.timeout(timeout):
            await writer.drain()
    except TimeoutError:
        return False
    except (ConnectionError, OSError):
        return True  # the peer is gone: the read that follows ends the connection
    return True
