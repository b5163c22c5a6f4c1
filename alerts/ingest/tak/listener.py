"""The CoT listener: TAK clients send to us over TCP, TLS (client certificates) and UDP (unicast or multicast).

Each message read is put on the durable alert inbox stream, tagged with the
listener's feed (``alerts.ingest.tak.inbox``), as it arrives; ingest decodes
it like any other payload. The listener parses nothing but the framing
(``alerts.ingest.tak.framing``): XML CoT delimited on ``</event>``, TAK
Protocol version 1 protobuf stored as its mesh form, pings and the protocol
negotiation answered or counted.

- **TCP** (conventionally 8087) and **TLS** (conventionally 8089): one
  ``pump`` per connection (``alerts.ingest.tak.connection``). With
  ``Endpoints.offer_protobuf`` the listener announces TAK Protocol version 1
  support on connect (``t-x-takp-v``), as a TAK server does; a client that
  asks for it (``t-x-takp-q``, announced or not) is answered and may then
  stream protobuf. Connection slots and byte budgets per endpoint and per
  client address (``alerts.ingest.tak.admission``) decide who is read and how
  fast; a connection refused a slot is closed, logged and counted. Each
  endpoint has its own count, so a flood of plain TCP connections leaves
  room on TLS, and one address cannot take all the room. TLS requires a
  client certificate signed by ``cafile`` (``tls_context``); a client without
  one fails the handshake and never reaches the inbox; a handshake not done
  within ``Limits.handshake_timeout`` seconds is dropped. The handshake is
  made once the connection has its slot, so connections that never complete
  it are held to the same limits; a failed one is logged and counted.
- **UDP** (situational awareness, conventionally multicast ``239.2.3.1:6969``;
  a multicast address joins the group on every interface): one message per
  datagram, XML or protobuf mesh (``0xBF 0x01 0xBF``), stored as received. A
  datagram over the size limit or the byte budget is refused, logged and counted. A datagram in
  the streaming protobuf form (pytak sends those to unicast addresses) is
  stored in mesh form like a stream's. The socket is
  not read while the inbox is being written; meanwhile the kernel's receive
  buffer holds what arrives, and what overflows it is lost by UDP itself
  (the kernel counts it: ``RcvbufErrors`` in ``/proc/net/snmp``).

With an ``outbound`` factory (``alerts.ingest.tak.outbound``), a TCP or TLS
connection also carries CoT back to the client, on the same socket, for as
long as both ends keep it open: the factory decides per connection (None:
receive only), and every outbound stream stops when the connection ends or the
listener stops; a stream that ends by itself (its rights revoked) closes the
connection after what was read from it is stored. Once a client's request for
TAK Protocol version 1 is answered (``connection.Wire``), what it is sent is
streaming protobuf too, as the protocol requires of both directions.

With a ``Heartbeat`` the listener shows in ``GET /api/v1/health`` like an
ingest worker: beating while it runs, ``retrying`` with the reason while its
messages wait for Redis, its ``Counters`` as the counts.

``CotListener.run(stop)`` serves until ``stop`` is set (then every open
connection is ended after what it read is stored) (a thread of
``crisisdash serve`` or of ``crisisdash cot listen``); ``ready`` is set once
every socket is bound and ``ports`` names the bound ports. Binding errors are
raised from ``run``.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alerts.ingest.tak.admission import Admission
from alerts.ingest.tak.connection import Limits, Wire, pump, utc_now
from alerts.ingest.tak.framing import control_kind, datagram_messages, support_event
from alerts.ingest.tak.inbox import InboxWriter
from alerts.ingest.tak.outbound import OutboundFactory, Peer, certificate_subject, run_outbound
from alerts.store.heartbeats import Heartbeat

log = logging.getLogger(__name__)

Address = tuple[str, int]
_UDP_BATCH = 256


@dataclass(frozen=True)
class Endpoints:
    """Where to listen (None: not on that transport); port 0 picks a free port."""

    tcp: Address | None = None
    tls: Address | None = None
    udp: Address | None = None
    tls_context: ssl.SSLContext | None = None
    #: Announce TAK Protocol version 1 on connect (``t-x-takp-v``), so TAK clients may switch to protobuf.
    #: Off by default: a client that sends and closes without reading (TAK's one-shot TCP) would reset the
    #: connection on the unread announcement, and the reset discards what it sent that was not yet read.
    offer_protobuf: bool = False


def tls_context(certfile: Path, keyfile: Path, cafile: Path) -> ssl.SSLContext:
    """A server context that requires a client certificate signed by ``cafile`` (PEM files; TLS 1.2 or later).

    Raises ``OSError``/``ssl.SSLError`` for files that cannot be read or do not match.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(cafile))
    context.load_cert_chain(str(certfile), str(keyfile))
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def parse_address(text: str, default_host: str = "0.0.0.0") -> Address:
    """``HOST:PORT`` or ``PORT`` as ``(host, port)``; ``ValueError`` naming what is wrong (a port out of range, a
    host that is no address: ``999.1.1.1`` failed only when bound, in the listener's thread)."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number (HOST:PORT or PORT)") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"{text!r}: port {number} is not in 0-65535")
    host = host.strip("[]") or default_host
    try:
        socket.getaddrinfo(host, None)  # an address or a name this host can bind (checked before any bind)
    except (socket.gaierror, UnicodeError):
        raise ValueError(f"{text!r}: {host!r} is not an address of this host's network") from None
    return host, number


#: How long a closed connection may take to send what was written to it before it is cut (seconds).
CLOSE_WAIT = 5.0


class CotListener:
    """Serves the configured endpoints until stopped (see the module docstring)."""

    def __init__(self, inbox: InboxWriter, endpoints: Endpoints, limits: Limits = Limits(),
                 clock: Callable[[], datetime] = utc_now, heartbeat: Heartbeat | None = None,
                 outbound: OutboundFactory | None = None):
        self.inbox = inbox
        self.outbound = outbound
        self._ending: set[threading.Event] = set()
        self.heartbeat = heartbeat
        self.endpoints = endpoints
        self.limits = limits
        self.clock = clock
        self.counters = inbox.counters
        self.ports: dict[str, int] = {}
        self.ready = threading.Event()
        self._connections: set[asyncio.Task] = set()
        self._admission: Admission | None = None  # slots and byte budgets of the running loop (``_serve``)

    @property
    def open_connections(self) -> dict[str, int]:
        """Open connections by endpoint (``tcp``, ``tls``), a TLS one from its accept, handshake included."""
        return self._admission.open_connections if self._admission is not None else {}

    def run(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set (blocking; its own event loop)."""
        self.ready.clear()
        asyncio.run(self._serve(stop))

    async def _serve(self, stop: threading.Event) -> None:
        servers, tasks = [], []
        self._admission = Admission(self.limits)  # (its events and limiters are this run's loop's)
        ends = self.endpoints
        try:
            if ends.tcp:
                servers.append(await self._stream_server("tcp", ends.tcp, None))
            if ends.tls:
                if ends.tls_context is None:
                    raise ValueError("a TLS endpoint needs a TLS context (certificate, key, CA)")
                servers.append(await self._stream_server("tls", ends.tls, ends.tls_context))
            if ends.udp:
                sock = _udp_socket(ends.udp)
                self.ports["udp"] = sock.getsockname()[1]
                tasks.append(asyncio.create_task(self._udp(sock)))
            self.ready.set()
            log.info("CoT listener on %s, feed %s", self.ports, self.inbox.feed)
            while not stop.is_set():
                await asyncio.sleep(0.1)
                for task in tasks:
                    if task.done():
                        task.result()  # a dead UDP reader raises here, so the supervisor restarts us
                await self._beat()
        finally:
            for ended in list(self._ending):
                ended.set()  # every outbound stream stops with the listener
            for server in servers:
                server.close()  # no new connection ...
            for connection in list(self._connections):
                connection.cancel()  # ... and each open one stores what it read, then ends
            await asyncio.gather(*self._connections, return_exceptions=True)
            if self.heartbeat is not None:
                await asyncio.to_thread(self.heartbeat.stop)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.ready.clear()

    async def _beat(self) -> None:
        """Write the heartbeat with the counters (at most once a second; ``retrying`` while the inbox waits)."""
        if self.heartbeat is None:
            return
        self.heartbeat.counts = dict(vars(self.counters))
        waiting = self.inbox.waiting
        await asyncio.to_thread(self.heartbeat.beat, "retrying" if waiting else "running", waiting)

    async def _stream_server(self, name: str, address: Address, context: ssl.SSLContext | None):
        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            self._connections.add(task)
            try:
                await self._connection(name, reader, writer, context)
            except asyncio.CancelledError:
                pass  # the listener is stopping: the connection ends with it
            finally:
                self._connections.discard(task)

        # (TLS is started by _connection, once the connection has its slot: one that never completes its
        # handshake counts against the limits like any other)
        server = await asyncio.start_server(connected, address[0], address[1], limit=self.limits.read_size)
        self.ports[name] = server.sockets[0].getsockname()[1]
        return server

    async def _connection(self, via: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          context: ssl.SSLContext | None = None) -> None:
        address = _peer(writer)
        name = f"{via}:{address}"
        host = address.rpartition(":")[0]
        admission = self._admission
        try:
            served = await admission.enter(via, host)
        except asyncio.CancelledError:  # the listener stops: nothing of it was read
            writer.close()
            raise
        if not served:
            self.counters.refused += 1
            on_endpoint, from_host = admission.counts(via, host)
            log.warning("TAK connection %s refused: %d open on %s, %d from %s (limits %d, %d; no slot within "
                        "%g s)", name, on_endpoint, via, from_host, host, self.limits.max_connections,
                        self.limits.max_per_address, self.limits.slot_wait)
            writer.close()
            return
        ended = threading.Event()
        self._ending.add(ended)
        tasks: list[asyncio.Task] = []
        try:
            if context is not None and not await self._handshake(writer, context, name):
                return
            peer = Peer(via, address, certificate_subject(writer) if context is not None else "")
            self.counters.connections += 1
            if self.endpoints.offer_protobuf:
                writer.write(support_event(self.clock()))
            stream = await self._outbound_for(peer)
            wire = Wire()  # what the two sides speak: XML until a protobuf request is answered
            reading = asyncio.create_task(pump(reader, writer, self.inbox, self.limits, name, self.clock, wire,
                                               admission.budget(via, host)))
            tasks.append(reading)
            if stream is not None:
                sending = asyncio.create_task(run_outbound(stream, writer, ended, peer, self.limits.read_timeout,
                                                           wire))
                tasks.append(sending)
                await asyncio.wait({reading, sending}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    writer.close()  # the outbound stream ended (revoked): the connection ends; what was read is stored
            log.debug("TAK connection %s ended: %s", name, await reading)
        finally:
            ended.set()
            self._ending.discard(ended)
            for task in tasks:
                task.cancel()  # done ones ignore it; a stopping listener cancels what still runs
            admission.leave(via, host)
            writer.close()
            try:
                async with asyncio.timeout(CLOSE_WAIT):
                    await writer.wait_closed()
            except TimeoutError:  # what is left to send is never read (a client that reads nothing): dropped
                writer.transport.abort()
            except (ConnectionError, OSError, ssl.SSLError):
                pass  # the peer went first; the connection is closed either way

    async def _handshake(self, writer: asyncio.StreamWriter, context: ssl.SSLContext, name: str) -> bool:
        """Whether the TLS handshake on ``writer`` (the server side, ``context`` requiring a client
        certificate) was done within ``Limits.handshake_timeout``; a failure is logged and counted."""
        try:
            await writer.start_tls(context, ssl_handshake_timeout=self.limits.handshake_timeout)
        except (ssl.SSLError, ConnectionError, OSError, TimeoutError) as exc:
            self.counters.handshakes_failed += 1
            log.info("TAK connection %s: TLS handshake failed: %s", name, exc or type(exc).__name__)
            return False
        return True

    async def _outbound_for(self, peer: Peer):
        """The connection's outbound stream, or None: none configured, or the factory failed (logged; the
        connection still receives: what a device sends never depends on what it may be sent)."""
        if self.outbound is None:
            return None
        try:
            return await asyncio.to_thread(self.outbound, peer)
        except Exception:  # noqa: BLE001  e.g. Redis gone while auditing: no outbound, inbound goes on
            log.exception("CoT outbound to %s:%s not started; the connection only receives", peer.via, peer.address)
            return None

    async def _udp(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        size = self.limits.max_message_bytes
        with sock:
            while True:
                datagrams = [await loop.sock_recvfrom(sock, 65_536)]
                while len(datagrams) < _UDP_BATCH:
                    try:
                        datagrams.append(sock.recvfrom(65_536))
                    except BlockingIOError:
                        break
                payloads = []
                for data, sender in datagrams:
                    if len(data) > size:
                        self.counters.oversized += 1
                        log.warning("UDP datagram of %d bytes from %s refused (limit %d)", len(data), sender, size)
                        continue
                    if not await self._admission.datagram(str(sender[0]), len(data)):
                        self.counters.over_budget += 1
                        if self.counters.over_budget % 1000 == 1:  # (a flood is logged, not each datagram)
                            log.warning("UDP datagram of %d bytes from %s refused: over the byte budget (%d B/s "
                                        "per address, %d B/s in all); %d refused so far", len(data), sender,
                                        self.limits.address_bytes_per_second,
                                        self.limits.endpoint_bytes_per_second, self.counters.over_budget)
                        continue
                    for message in datagram_messages(data, size):
                        if control_kind(message) is not None:
                            self.counters.control += 1
                        elif message.strip(b" \t\r\n\x00"):
                            payloads.append(message)
                if payloads:
                    await self.inbox.put(payloads)


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


def _udp_socket(address: Address) -> socket.socket:
    """A bound non-blocking UDP socket; a multicast address joins its group (IPv4, every interface)."""
    host, port = address
    try:
        multicast = ipaddress.ip_address(host).is_multicast
    except ValueError:  # a host name, or "" for every address
        multicast = False
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind((host if multicast else host or "0.0.0.0", port))
        if multicast:
            membership = struct.pack("4s4s", socket.inet_aton(host), socket.inet_aton("0.0.0.0"))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock
