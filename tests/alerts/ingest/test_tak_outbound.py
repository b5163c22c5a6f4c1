"""The listener's outbound side (``alerts.ingest.tak.outbound``): streams written back on a client's connection,
never at the cost of what the client sends."""
from __future__ import annotations

import socket
import threading

from alerts.ingest.tak.inbox import InboxWriter
from alerts.ingest.tak.listener import CotListener, Endpoints
from tests.alerts.ingest.test_tak_listener import EVENTS, LOCAL, payloads, running


class Once:
    """A stream that sends one event, waits for ``release``, then ends by itself (as a revoked one does)."""

    def __init__(self):
        self.release = threading.Event()

    def stream(self, send, stop: threading.Event) -> None:
        send(b"<event uid='from-the-centre'/>")
        self.release.wait(20)


def test_tko001_a_failing_outbound_factory_leaves_the_connection_receiving(client, keys):
    def broken(peer):
        raise ConnectionError("Redis gone while auditing")

    listener = CotListener(InboxWriter(client, keys, "rs-tak"), Endpoints(tcp=LOCAL), outbound=broken)
    with running(listener):
        assert listener.ready.wait(10)
        with socket.create_connection(("127.0.0.1", listener.ports["tcp"]), timeout=10) as sock:
            sock.sendall(EVENTS[0])
            assert payloads(client, keys, 1) == [EVENTS[0]]


def test_tko002_a_stream_that_ends_closes_the_connection_after_what_was_read_is_stored(client, keys):
    once = Once()
    listener = CotListener(InboxWriter(client, keys, "rs-tak"), Endpoints(tcp=LOCAL),
                           outbound=lambda peer: once if peer.via == "tcp" else None)
    with running(listener):
        assert listener.ready.wait(10)
        with socket.create_connection(("127.0.0.1", listener.ports["tcp"]), timeout=10) as sock:
            received = b""
            while b"/>" not in received:
                received += sock.recv(65536)
            assert received == b"<event uid='from-the-centre'/>"
            sock.sendall(EVENTS[0])
            assert payloads(client, keys, 1) == [EVENTS[0]]
            once.release.set()  # the stream ends: the listener closes the connection
            while chunk := sock.recv(65536):
                received += chunk
    assert listener.counters.stored == 1
