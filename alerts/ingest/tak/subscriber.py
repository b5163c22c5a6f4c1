"""The TAK server bridge: connect to a TAK server as a client and put what it relays on the inbox stream.

``TakSubscriber.run(stop)`` connects to ``host:port`` (TCP, or TLS with a
client certificate: ``client_tls_context``), reads the connection like the
listener does (``alerts.ingest.tak.connection.pump``: framing, control
messages, back-pressure, the read timeout and size limit; a TAK server pings
its clients, so a silent connection is a dead one) and, whenever the
connection ends or cannot be made, connects again after a back-off that starts
at ``backoff`` seconds and doubles up to ``backoff_max`` (reset once a
connection has carried a message). ``hello``, when given, is sent on every
connection first, dated then (``alerts.formats.cot.encode.restamped``, with the
``clock``): the CoT event (a position report of the bridge) some servers,
FreeTAKServer among them, wait for before they relay anything to a client. It stays on XML: it never asks for protobuf,
and frames protobuf if a server sends it anyway.
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from alerts.formats.cot.encode import restamped
from alerts.ingest.tak.connection import Limits, pump
from alerts.ingest.tak.inbox import InboxWriter

log = logging.getLogger(__name__)


def client_tls_context(cafile: Path | None, certfile: Path | None, keyfile: Path | None) -> ssl.SSLContext:
    """A client context trusting ``cafile`` (else the system's CAs), presenting ``certfile``/``keyfile`` if given.

    Raises ``OSError``/``ssl.SSLError`` for files that cannot be read or do not match.
    """
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if certfile:
        context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
    return context


class TakSubscriber:
    """One outgoing connection to a TAK server, kept up until stopped (see the module docstring)."""

    def __init__(self, inbox: InboxWriter, host: str, port: int, *, tls: ssl.SSLContext | None = None,
                 limits: Limits = Limits(), backoff: float = 0.5, backoff_max: float = 30.0,
                 hello: bytes | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.inbox = inbox
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = limits
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.hello = hello
        self.clock = clock
        self.counters = inbox.counters
        self.connected = threading.Event()  # set while a connection is up

    def run(self, stop: threading.Event) -> None:
        """Keep a connection to the TAK server until ``stop`` is set (blocking; its own event loop)."""
        asyncio.run(self._main(stop))

    async def _main(self, stop: threading.Event) -> None:
        task = asyncio.create_task(self._connect_forever())
        try:
            while not stop.is_set() and not task.done():
                await asyncio.sleep(0.1)
            if task.done():
                task.result()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.connected.clear()

    async def _connect_forever(self) -> None:
        wait = self.backoff
        peer = f"{self.host}:{self.port}"
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that arrives as
                # the connection fails, and the bridge then never stops (cpython gh-86296)
                async with asyncio.timeout(self.limits.read_timeout):
                    reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.tls,
                                                                   limit=self.limits.read_size)
            except (OSError, TimeoutError, ssl.SSLError) as exc:
                log.warning("TAK server %s unreachable (%s); trying again in %.1f s", peer, exc or "timeout", wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.backoff_max)
                continue
            self.counters.connections += 1
            self.connected.set()
            stored = self.counters.stored
            log.info("connected to TAK server %s", peer)
            if self.hello:
                writer.write(restamped(self.hello, self.clock()))
            try:
                ended = await pump(reader, writer, self.inbox, self.limits, peer)
            finally:
                self.connected.clear()
                writer.close()
            if self.counters.stored > stored:
                wait = self.backoff
            log.warning("TAK server %s connection ended (%s); reconnecting in %.1f s", peer, ended, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, self.backoff_max)
