"""The listener's outbound side: CoT written back to a TAK client on the connection it sends on.

The listener knows nothing of incidents: it asks an ``OutboundFactory`` (wired
by ``dashboard.cot_listener``) for a stream per connection, with the ``Peer``
(transport, address, the subject of a TLS client certificate). None: nothing
is sent, the connection only receives. A stream (``Outbound``: in practice
``alerts.actions.cot_picture.CotPicture``) runs in a thread of its own, so its
blocking reads of Redis never hold the listener's event loop; each event it
sends is written on the loop and awaited until the socket took it
(``drain``), so a client that does not read holds the stream back rather than
filling memory, and one that has not read for ``send_timeout`` seconds ends
the stream. ``run_outbound`` returns when the stream ends: the connection
closed, the listener stopping (``stop``), the stream's rights revoked, or an
error (logged).
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from alerts.formats.cot.tak import protobuf_stream_of
from alerts.ingest.tak.connection import Wire

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peer:
    """Who is connected: ``via`` ``tcp`` or ``tls``, ``address`` ``host:port``, ``certificate`` the TLS client
    certificate's subject (``CN=...,O=...``; "" on plain TCP)."""

    via: str
    address: str
    certificate: str = ""

    @property
    def host(self) -> str:
        """The peer's address without the port."""
        return self.address.rsplit(":", 1)[0]


class Outbound(Protocol):
    """What a connection streams: ``stream(send, stop)`` calls ``send(bytes)`` per event until ``stop``."""

    def stream(self, send: Callable[[bytes], None], stop: threading.Event) -> None:
        """Send events until ``stop`` is set; raises to end the stream (``send`` raises once the peer is gone)."""


OutboundFactory = Callable[[Peer], "Outbound | None"]


def certificate_subject(writer: asyncio.StreamWriter) -> str:
    """The TLS client certificate's subject as ``CN=...,O=...`` ("" without one)."""
    cert = writer.get_extra_info("peercert") or {}
    parts = [f"{_SHORT.get(key, key)}={value}" for rdn in cert.get("subject", ()) for key, value in rdn]
    return ",".join(parts)


_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}


async def run_outbound(stream: Outbound, writer: asyncio.StreamWriter, stop: threading.Event, peer: Peer,
                       send_timeout: float, wire: Wire | None = None) -> str:
    """Run ``stream`` for one connection until it ends; returns why (``stopped``, ``lost``, or the error).
    Once ``wire`` says the connection agreed on protobuf, each event is written as TAK Protocol version 1."""
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[str] = loop.create_future()

    async def write(data: bytes) -> None:
        if writer.is_closing():
            raise ConnectionResetError("the TAK client's connection is closed")
        writer.write(protobuf_stream_of(data) if wire is not None and wire.protobuf else data)
        await writer.drain()

    def send(data: bytes) -> None:
        if stop.is_set():
            raise ConnectionResetError("the connection is ending")
        asyncio.run_coroutine_threadsafe(write(data), loop).result(timeout=send_timeout)

    def finish(why: str) -> None:
        if not ended.done():
            ended.set_result(why)

    def body() -> None:
        why = "stopped"
        try:
            stream.stream(send, stop)
        except (ConnectionError, OSError, TimeoutError) as exc:
            why = f"lost: {exc or type(exc).__name__}"
        except BaseException as exc:  # noqa: BLE001  Revoked, Redis gone, loop closed: the stream ends, logged
            why = f"{type(exc).__name__}: {exc}"
        try:
            loop.call_soon_threadsafe(finish, why)
        except RuntimeError:
            pass  # the listener's loop is gone: nobody waits

    thread = threading.Thread(target=body, name=f"cot-outbound {peer.via}:{peer.address}", daemon=True)
    thread.start()
    try:
        why = await ended
    finally:
        stop.set()
    log.info("CoT outbound to %s:%s ended: %s", peer.via, peer.address, why)
    return why
