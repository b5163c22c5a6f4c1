"""The CoT listener and the TAK server bridge on real loopback sockets, writing to a real Redis."""
from __future__ import annotations

import asyncio
import socket
import time
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import pytest
from takproto import TAKProtoVer, xml2proto

from alerts.core.feeds import FeedRegistry
from alerts.core.model import Status
from alerts.formats.cot.tak import MESH_HEADER
from alerts.ingest.tak.connection import Limits
from alerts.ingest.tak.inbox import InboxWriter
from alerts.ingest.tak.listener import CotListener, Endpoints, parse_address, tls_context
from alerts.ingest.tak.subscriber import TakSubscriber, client_tls_context
from alerts.store.alerts import AlertStore
from tests.alerts.ingest.tak_certs import issue_certificates
from tests.conftest import DATA, ROOT, alert_pipeline, stream_ingest, wait_for

EVENTS = [path.read_bytes().strip() for path in sorted((DATA / "cot").glob("*.xml"))]
EMERGENCY = (DATA / "cases" / "01a_cot-911-uid-reuse.xml").read_bytes()
LOCAL = ("127.0.0.1", 0)


@contextmanager
def running(target) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=target.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


@contextmanager
def listening(client, keys, endpoints: Endpoints, limits: Limits = Limits(), feed: str = "rs-tak"
              ) -> Iterator[CotListener]:
    listener = CotListener(InboxWriter(client, keys, feed), endpoints, limits)
    with running(listener):
        assert listener.ready.wait(10)
        yield listener


def inbox(client, keys) -> list[dict[str, bytes]]:
    return [{k.decode(): v for k, v in fields.items()} for _, fields in client.xrange(keys.inbox)]


def payloads(client, keys, count: int) -> list[bytes]:
    wait_for(lambda: len(inbox(client, keys)) >= count, what=f"{count} inbox entries")
    return [entry["payload"] for entry in inbox(client, keys)]


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_event(sock: socket.socket) -> bytes:
    data = b""
    while b"</event>" not in data:
        more = sock.recv(4096)
        assert more, "closed before a whole event"
        data += more
    return data


def closed_by_peer(sock: socket.socket) -> bool:
    """True once the listener has closed the connection (EOF or reset), reading and discarding the rest."""
    with suppress(ConnectionResetError):  # a reset is a close too
        while sock.recv(65536):
            continue
    return True


def refused_without_a_word(sock: ssl.SSLSocket) -> bool:
    """The server ends the TLS connection (an alert, or EOF) before sending anything (TLS 1.3: on the first read)."""
    try:
        sock.sendall(EVENTS[1])
        return sock.recv(4096) == b""
    except (ssl.SSLError, ConnectionError):
        return True


def test_tak101_xml_over_tcp_in_odd_chunks_reaches_the_inbox_tagged_with_the_feed(client, keys):
    stream = b"\n".join(EVENTS)
    with listening(client, keys, Endpoints(tcp=LOCAL)) as listener, connect(listener.ports["tcp"]) as sock:
        for start in range(0, len(stream), 333):  # cuts through tags, attributes and delimiters
            sock.sendall(stream[start:start + 333])
        assert payloads(client, keys, len(EVENTS)) == EVENTS
    assert {entry["feed"] for entry in inbox(client, keys)} == {b"rs-tak"}
    assert listener.counters.stored == len(EVENTS)


def test_tak101b_a_one_shot_sender_that_closes_at_once_loses_nothing(client, keys):
    """TAK's one-shot TCP: connect, send, close without reading. Anything written to such a client (the
    protocol announcement did) makes its close a reset, which discarded the events not yet read."""
    many = [e.replace(b'uid="', f'uid="{i}-'.encode(), 1) for i in range(300) for e in EVENTS]
    with listening(client, keys, Endpoints(tcp=LOCAL)) as listener:
        with connect(listener.ports["tcp"]) as sock:
            sock.sendall(b"".join(many))
        assert payloads(client, keys, len(many)) == many


def test_tak102_protobuf_after_negotiation_and_pings_are_not_stored(client, keys):
    request = (b'<event version="2.0" uid="ANDROID-1" type="t-x-takp-q" time="2026-01-01T00:00:00Z" '
               b'start="2026-01-01T00:00:00Z" stale="2026-01-01T00:01:00Z" how="m-g"><point lat="0" lon="0" '
               b'hae="0" ce="999999" le="999999"/><detail><TakControl><TakRequest version="1"/></TakControl>'
               b"</detail></event>")
    ping = request.replace(b"t-x-takp-q", b"t-x-c-t")
    endpoints = Endpoints(tcp=LOCAL, offer_protobuf=True)
    with listening(client, keys, endpoints) as listener, connect(listener.ports["tcp"]) as sock:
        assert b'type="t-x-takp-v"' in read_event(sock)  # protocol support announced on connect
        sock.sendall(request)
        assert b'<TakResponse status="true"/>' in read_event(sock)
        sock.sendall(b"".join(bytes(xml2proto(e, TAKProtoVer.STREAM)) for e in EVENTS[:3]))
        sock.sendall(bytes(xml2proto(ping, TAKProtoVer.STREAM)))
        sock.sendall(bytes(xml2proto(EVENTS[3], TAKProtoVer.STREAM)))
        stored = payloads(client, keys, 4)
    assert [p[3:] for p in stored] == [bytes(xml2proto(e))[3:] for e in EVENTS[:4]]
    assert all(p.startswith(MESH_HEADER) for p in stored)
    assert listener.counters.control == 2



def test_tak102b_a_client_that_never_reads_its_answers_is_held_back_then_closed(client, keys):
    """Breaker finding: negotiation requests sent without end and never read made the answers pile up in the
    listener's memory (hundreds of MB). Past ``WRITE_BACKLOG`` unread bytes the listener reads no more of that
    connection (back-pressure), and closes it after the read timeout; others are served meanwhile."""
    request = (b'<event version="2.0" uid="ANDROID-1" type="t-x-takp-q" time="2026-01-01T00:00:00Z" '
               b'start="2026-01-01T00:00:00Z" stale="2026-01-01T00:01:00Z" how="m-g"><point lat="0" lon="0" '
               b'hae="0" ce="999999" le="999999"/><detail><TakControl><TakRequest version="1"/></TakControl>'
               b"</detail></event>")
    sent, offered = 0, 200_000
    with listening(client, keys, Endpoints(tcp=LOCAL), Limits(read_timeout=3)) as listener:
        greedy = socket.socket()
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.settimeout(2)
        greedy.connect(("127.0.0.1", listener.ports["tcp"]))
        stalled = False
        try:
            for _ in range(offered // 100):
                greedy.sendall(request * 100)
                sent += 100
        except (TimeoutError, ConnectionError):
            stalled = True  # the listener stopped reading (then closed the connection)
        assert stalled and sent < offered  # held back: it did not read the 200,000 requests (60 MB)
        with connect(listener.ports["tcp"]) as other:  # served meanwhile
            other.sendall(EVENTS[0])
            assert payloads(client, keys, 1) == [EVENTS[0]]
        wait_for(lambda: listener.counters.timeouts >= 1, 10, "the greedy connection closed")
        assert listener.counters.control < sent  # what the kernel still held was never read
        greedy.close()

def test_tak103_udp_datagrams_xml_and_mesh_protobuf(client, keys):
    with listening(client, keys, Endpoints(udp=LOCAL)) as listener:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(EVENTS[0], ("127.0.0.1", listener.ports["udp"]))
            sock.sendto(bytes(xml2proto(EVENTS[1])), ("127.0.0.1", listener.ports["udp"]))
            stored = payloads(client, keys, 2)
    assert stored == [EVENTS[0], bytes(xml2proto(EVENTS[1]))]


def test_tak103b_a_datagram_over_the_size_limit_is_refused_and_counted(client, keys):
    limits = Limits(max_message_bytes=2000)
    with listening(client, keys, Endpoints(udp=LOCAL), limits) as listener:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"<event>" + b"z" * 3000 + b"</event>", ("127.0.0.1", listener.ports["udp"]))
            sock.sendto(EVENTS[0], ("127.0.0.1", listener.ports["udp"]))
            assert payloads(client, keys, 1) == [EVENTS[0]]
        assert listener.counters.oversized == 1



def _numbered(n: int, size: int) -> list[bytes]:
    """``n`` distinct CoT events of about ``size`` bytes each (remarks padding)."""
    pad = b"<remarks>" + b"x" * max(0, size - len(EVENTS[0]) - 40) + b"</remarks>"
    return [EVENTS[0].replace(b'uid="', f'uid="{i}-'.encode(), 1).replace(b"</event>", pad + b"</event>")
            for i in range(n)]


def test_tak103c_a_stream_over_its_byte_budget_is_read_no_faster_and_loses_nothing(client, keys):
    """Breaker finding: 220 connections filled Redis with 400 MB in seconds. A client address is read at
    most its budget a second (back-pressure: what it sent waits in the kernel), and all of it is stored."""
    rate = 8192
    events = _numbered(12, 4000)  # 48 KB: about six seconds at the budget, after a burst of one second's worth
    limits = Limits(read_size=4096, address_bytes_per_second=rate, endpoint_bytes_per_second=1 << 20)
    with listening(client, keys, Endpoints(tcp=LOCAL), limits) as listener, connect(listener.ports["tcp"]) as sock:
        start = time.monotonic()
        sock.sendall(b"".join(events))
        while len(inbox(client, keys)) < len(events):
            stored = sum(len(e["payload"]) for e in inbox(client, keys))
            assert stored <= rate * (time.monotonic() - start + 1) + limits.read_size  # never faster than budgeted
            time.sleep(0.05)
        assert payloads(client, keys, len(events)) == events



def test_tak103e_reconnecting_does_not_begin_a_fresh_budget(client, keys):
    """Round-2 breaker finding: the budget of an address was forgotten when its last connection closed, so
    connect-send-close-reconnect got a fresh second's worth each time (3.2 MiB/s against 1 MiB/s)."""
    rate = 8192
    events = _numbered(12, 4000)
    limits = Limits(read_size=4096, address_bytes_per_second=rate, endpoint_bytes_per_second=1 << 20)
    with listening(client, keys, Endpoints(tcp=LOCAL), limits) as listener:
        start = time.monotonic()
        for pair in (events[i:i + 2] for i in range(0, len(events), 2)):
            with connect(listener.ports["tcp"]) as sock:
                sock.sendall(b"".join(pair))
                sock.shutdown(socket.SHUT_WR)
                assert closed_by_peer(sock)  # read whole (within the budget), then closed by the listener
            stored = sum(len(e["payload"]) for e in inbox(client, keys))
            assert stored <= rate * (time.monotonic() - start + 1) + limits.read_size
        assert payloads(client, keys, len(events)) == events


@pytest.mark.parametrize("bad", [{"max_connections": 0}, {"max_per_address": -1}, {"read_timeout": float("nan")},
                                 {"message_timeout": 0}, {"handshake_timeout": -1}, {"slot_wait": float("inf")},
                                 {"address_bytes_per_second": 100}])
def test_tak103f_limits_that_would_refuse_everything_or_never_end_are_refused_at_start(bad):
    with pytest.raises(ValueError, match="CoT"):
        Limits(**bad)

def test_tak103d_datagrams_over_the_byte_budget_are_refused_and_counted(client, keys):
    events = _numbered(20, 3000)
    limits = Limits(read_size=4096, address_bytes_per_second=8192, endpoint_bytes_per_second=1 << 20)
    with listening(client, keys, Endpoints(udp=LOCAL), limits) as listener:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for event in events:
                sock.sendto(event, ("127.0.0.1", listener.ports["udp"]))
        wait_for(lambda: listener.counters.stored + listener.counters.over_budget == len(events),
                 what="every datagram stored or refused")
    # 60 KB sent at once against 8 KB a second: a second's budget stored (with what leaks in while they are
    # sent), the rest refused
    assert 1 <= listener.counters.stored <= 10 and listener.counters.over_budget >= 10

@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return issue_certificates(tmp_path_factory.mktemp("tak-pki"))


def test_tak104_tls_with_a_client_certificate_is_accepted_and_without_one_refused(client, keys, certificates):
    pki = certificates
    endpoints = Endpoints(tls=LOCAL, tls_context=tls_context(pki.server_cert, pki.server_key, pki.ca),
                          offer_protobuf=True)  # an accepted connection gets a word at once
    with listening(client, keys, endpoints) as listener:
        port = listener.ports["tls"]
        with_cert = client_tls_context(pki.ca, pki.client_cert, pki.client_key)
        with with_cert.wrap_socket(connect(port), server_hostname="127.0.0.1") as sock:
            read_event(sock)
            sock.sendall(EVENTS[0])
            assert payloads(client, keys, 1) == [EVENTS[0]]
        without = client_tls_context(pki.ca, None, None)
        with without.wrap_socket(connect(port), server_hostname="127.0.0.1") as sock:
            assert refused_without_a_word(sock)
        assert len(inbox(client, keys)) == 1
        assert listener.counters.connections == 1


def test_tak105_an_oversized_message_closes_the_connection_after_storing_what_came_before(client, keys):
    limits = Limits(max_message_bytes=4096)
    with listening(client, keys, Endpoints(tcp=LOCAL), limits) as listener, connect(listener.ports["tcp"]) as sock:
        sock.sendall(EVENTS[0] + b"<event " + b"a" * 10_000)
        assert closed_by_peer(sock)
        assert payloads(client, keys, 1) == [EVENTS[0]]
        assert listener.counters.oversized == 1
    (_, letter), = client.xrange(keys.dead_letters)  # the refusal leaves a dead letter with the reason
    assert letter[b"via"] == b"feed:rs-tak" and b"limit of 4096" in letter[b"reason"]
    assert letter[b"payload"].startswith(b"<event aaaa")


def test_tak106_connections_over_the_limit_are_closed_and_counted(client, keys):
    with listening(client, keys, Endpoints(tcp=LOCAL), Limits(max_connections=3, slot_wait=0.2)) as listener:
        kept = [connect(listener.ports["tcp"]) for _ in range(3)]
        wait_for(lambda: listener.counters.connections == 3, what="3 connections served")
        extra = [connect(listener.ports["tcp"]) for _ in range(4)]
        for sock in extra:
            assert sock.recv(4096) == b""  # closed at once
        wait_for(lambda: listener.counters.refused == 4, what="4 refusals")
        kept[0].sendall(EVENTS[0])
        assert payloads(client, keys, 1) == [EVENTS[0]]
        for sock in kept + extra:
            sock.close()


def connect_from(port: int, source: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))


def test_tak106b_one_address_cannot_take_all_the_room_and_a_tcp_flood_leaves_room_on_tls(client, keys, certificates):
    pki = certificates
    endpoints = Endpoints(tcp=LOCAL, tls=LOCAL, tls_context=tls_context(pki.server_cert, pki.server_key, pki.ca))
    with listening(client, keys, endpoints, Limits(max_connections=5, max_per_address=3, slot_wait=0.2)) as listener:
        flood = [connect_from(listener.ports["tcp"], "127.0.0.2") for _ in range(3)]
        wait_for(lambda: listener.counters.connections == 3, what="3 connections from 127.0.0.2")
        one_more = connect_from(listener.ports["tcp"], "127.0.0.2")
        assert closed_by_peer(one_more)  # over the per-address limit
        others = [connect_from(listener.ports["tcp"], "127.0.0.3") for _ in range(2)]
        wait_for(lambda: listener.counters.connections == 5, what="2 more from 127.0.0.3")
        assert closed_by_peer(connect_from(listener.ports["tcp"], "127.0.0.4"))  # TCP is full ...
        with_cert = client_tls_context(pki.ca, pki.client_cert, pki.client_key)
        with with_cert.wrap_socket(connect_from(listener.ports["tls"], "127.0.0.2"), server_hostname="127.0.0.1") \
                as sock:  # ... TLS is not, even from the flooding address
            sock.sendall(EVENTS[0])
            assert payloads(client, keys, 1) == [EVENTS[0]]
        assert listener.counters.refused == 2
        for sock in flood + others + [one_more]:
            sock.close()


def test_tak106d_a_one_shot_sender_over_the_limit_waits_unread_for_a_slot_and_loses_nothing(client, keys):
    """Many devices behind one NAT address, each connecting, sending and closing: one over the per-address
    limit is read once a slot frees (within ``slot_wait``), not closed over what it sent."""
    with listening(client, keys, Endpoints(tcp=LOCAL), Limits(max_per_address=1, slot_wait=30)) as listener:
        holder = connect(listener.ports["tcp"])
        wait_for(lambda: listener.counters.connections == 1, what="the first connection served")
        with connect(listener.ports["tcp"]) as one_shot:
            one_shot.sendall(EVENTS[1])
        assert client.xlen(keys.inbox) == 0 and listener.counters.connections == 1  # waiting, unread
        holder.sendall(EVENTS[0])
        holder.close()
        assert payloads(client, keys, 2) == [EVENTS[0], EVENTS[1]]
        assert listener.counters.refused == 0



def test_tak106e_tls_connections_that_never_shake_hands_are_held_to_the_limits(client, keys, certificates):
    """Breaker finding: 1,000 raw connections to the TLS port, sending nothing, were outside every limit (the
    handshake happened before the listener saw them). Now they take slots, are refused past the limits, and
    are dropped and counted when the handshake timeout passes."""
    pki = certificates
    endpoints = Endpoints(tls=LOCAL, tls_context=tls_context(pki.server_cert, pki.server_key, pki.ca))
    limits = Limits(max_per_address=2, slot_wait=0.2, handshake_timeout=2)
    with listening(client, keys, endpoints, limits) as listener:
        silent = [connect_from(listener.ports["tls"], "127.0.0.2") for _ in range(2)]
        wait_for(lambda: listener.open_connections.get("tls") == 2, what="2 silent connections holding slots")
        assert closed_by_peer(connect_from(listener.ports["tls"], "127.0.0.2"))  # over the per-address limit
        assert listener.counters.refused == 1
        with_cert = client_tls_context(pki.ca, pki.client_cert, pki.client_key)
        with with_cert.wrap_socket(connect_from(listener.ports["tls"], "127.0.0.3"), server_hostname="127.0.0.1") \
                as sock:  # another address is served meanwhile
            sock.sendall(EVENTS[0])
            assert payloads(client, keys, 1) == [EVENTS[0]]
        wait_for(lambda: listener.counters.handshakes_failed == 2, what="the silent ones dropped at the timeout")
        wait_for(lambda: not listener.open_connections, what="every slot free again")
        for sock in silent:
            assert closed_by_peer(sock)
            sock.close()

def test_tak106c_what_a_connection_sent_of_a_message_it_did_not_finish_is_stored_when_it_closes(client, keys):
    with listening(client, keys, Endpoints(tcp=LOCAL)) as listener:
        with connect(listener.ports["tcp"]) as sock:
            sock.sendall(EVENTS[0] + EVENTS[1][:100])
        assert payloads(client, keys, 2) == [EVENTS[0], EVENTS[1][:100]]


def test_tak107b_a_message_trickling_in_is_cut_off_at_the_message_timeout_and_what_came_is_stored(client, keys):
    limits = Limits(message_timeout=0.5, read_timeout=60)
    with listening(client, keys, Endpoints(tcp=LOCAL), limits) as listener, connect(listener.ports["tcp"]) as sock:
        sock.sendall(EVENTS[0][:10])
        sent = 10
        with suppress(OSError):  # a byte at a time, each within the read timeout, until the listener hangs up
            while listener.counters.timeouts == 0 and sent < len(EVENTS[0]) - 1:
                sock.sendall(EVENTS[0][sent:sent + 1])
                sent += 1
                threading.Event().wait(0.05)  # the trickle itself (what is tested), not a wait for an outcome
        assert closed_by_peer(sock) and listener.counters.timeouts == 1
        assert payloads(client, keys, 1)[0] == EVENTS[0][:len(payloads(client, keys, 1)[0])]
        assert sent < len(EVENTS[0]) - 1  # it was cut off before the message was complete


def test_tak107_a_silent_connection_is_closed_after_the_read_timeout(client, keys):
    with listening(client, keys, Endpoints(tcp=LOCAL), Limits(read_timeout=0.3)) as listener:
        with connect(listener.ports["tcp"]) as sock:
            assert closed_by_peer(sock)
        assert listener.counters.timeouts == 1


def test_tak107c_white_space_alone_does_not_keep_a_connection_open(client, keys):
    with listening(client, keys, Endpoints(tcp=LOCAL), Limits(read_timeout=0.5)) as listener:
        with connect(listener.ports["tcp"]) as sock:
            with suppress(OSError):  # newlines, each well within the read timeout, until the listener hangs up
                while listener.counters.timeouts == 0:
                    sock.sendall(b"\n")
                    threading.Event().wait(0.1)  # the keep-alive itself (what is tested), not a wait for an outcome
            assert closed_by_peer(sock)
        assert listener.counters.timeouts == 1


def test_tak107d_stopping_the_listener_ends_open_connections_and_keeps_what_they_had_sent(client, keys):
    listener = CotListener(InboxWriter(client, keys, "rs-tak"), Endpoints(tcp=LOCAL))
    with running(listener) as stop:
        assert listener.ready.wait(10)
        idle = [connect(listener.ports["tcp"]) for _ in range(3)]
        idle[0].sendall(EVENTS[0] + EVENTS[1][:80])
        wait_for(lambda: listener.counters.connections == 3 and len(inbox(client, keys)) == 1, what="3 connections")
        stop.set()
        assert all(closed_by_peer(sock) for sock in idle)
    assert payloads(client, keys, 2) == [EVENTS[0], EVENTS[1][:80]]


def test_tak108_back_pressure_nothing_is_lost_while_redis_is_unreachable(client, keys, redis_url):
    from alerts.store.client import connect as connect_redis

    dead = connect_redis("redis://127.0.0.1:1/0", timeout=0.2)  # nothing listens there
    writer = InboxWriter(dead, keys, "rs-tak", backoff=0.05, backoff_max=0.1)
    listener = CotListener(writer, Endpoints(tcp=LOCAL))
    with running(listener):
        assert listener.ready.wait(10)
        with connect(listener.ports["tcp"]) as sock:
            sock.sendall(b"\n".join(EVENTS[:2]))
            wait_for(lambda: writer.counters.store_retries >= 2, what="retries while Redis is down")
            writer.client = client  # Redis is back
            assert payloads(client, keys, 2) == EVENTS[:2]


def test_tak109_a_cot_emergency_sent_to_the_listener_becomes_an_alert_of_its_feed(client, keys, regions):
    feeds = FeedRegistry.load(ROOT / "tests" / "data" / "feeds.toml")
    received = datetime(2026, 11, 29, 13, 40, 30, tzinfo=UTC)
    pipeline = alert_pipeline(client, keys, regions, feeds=feeds, clock=lambda: received)
    worker = stream_ingest(pipeline)
    store = AlertStore(client, keys)
    with listening(client, keys, Endpoints(tcp=LOCAL)) as listener, running(worker):
        with connect(listener.ports["tcp"]) as sock:
            sock.sendall(EMERGENCY[: len(EMERGENCY) // 2])
            sock.sendall(EMERGENCY[len(EMERGENCY) // 2:])
        alert = wait_for(lambda: store.get("ANDROID-0a1b2c3d4e5f6789-9-1-1"), what="the alert stored")
    assert alert.status == Status.NEW
    assert alert.routing.feed == "rs-tak" and alert.routing.nation == "RS"


def test_tak109c_pings_junk_and_cut_off_messages_around_emergencies_take_none_with_them(client, keys, regions):
    """The breaker's stream: a self-closed ping right before a 911, junk before another, a message cut off at the
    end. Both emergencies become alerts; the junk and the cut-off message are dead letters with a reason."""
    feeds = FeedRegistry.load(ROOT / "tests" / "data" / "feeds.toml")
    received = datetime(2026, 11, 29, 13, 40, 30, tzinfo=UTC)
    worker = stream_ingest(alert_pipeline(client, keys, regions, feeds=feeds, clock=lambda: received))
    ping = b'<event version="2.0" uid="ANDROID-0a1b2c3d4e5f6789" type="t-x-c-t" how="h-g-i-g-o"/>'
    second = EMERGENCY.replace(b"ANDROID-0a1b2c3d4e5f6789", b"ANDROID-ffff")
    cdata = second.replace(b"<detail>", b"<detail><remarks><![CDATA[type='t-x-c-t' </event>]]></remarks>")
    store = AlertStore(client, keys)
    with listening(client, keys, Endpoints(tcp=LOCAL)) as listener, running(worker):
        with connect(listener.ports["tcp"]) as sock:
            sock.sendall(ping + EMERGENCY + b"\x00 junk that is no CoT </event>" + cdata + b"<event uid='cut")
        wait_for(lambda: store.get("ANDROID-0a1b2c3d4e5f6789-9-1-1") and store.get("ANDROID-ffff-9-1-1")
                 and client.xlen(keys.dead_letters) == 2, what="2 alerts and 2 dead letters")
    assert listener.counters.control == 1
    reasons = [fields[b"reason"].decode() for _, fields in client.xrange(keys.dead_letters)]
    assert all(reasons) and len(reasons) == 2


def test_tak109b_a_device_the_registry_does_not_know_is_routed_by_the_listener_s_feed(client, keys, regions):
    feeds = FeedRegistry.load(ROOT / "tests" / "data" / "feeds.toml")
    received = datetime(2026, 11, 29, 13, 40, 30, tzinfo=UTC)
    worker = stream_ingest(alert_pipeline(client, keys, regions, feeds=feeds, clock=lambda: received))
    unknown = EMERGENCY.replace(b"ANDROID-0a1b2c3d4e5f6789", b"SQUAD-7")  # no feed has this uid prefix
    with listening(client, keys, Endpoints(tcp=LOCAL), feed="rs-tak") as listener, running(worker):
        with connect(listener.ports["tcp"]) as sock:
            sock.sendall(unknown)
        alert = wait_for(lambda: AlertStore(client, keys).get("SQUAD-7-9-1-1"), what="the alert stored")
    assert alert.routing.feed == "rs-tak" and alert.routing.releasable_to == ["RS", "BA"]


def test_tak110b_the_bridge_stops_when_asked_in_the_middle_of_reconnecting(client, keys):
    """CI: the bridge, stopped as it reconnected, did not stop: ``asyncio.wait_for`` on Python 3.11 returns the
    connection (or its error) and swallows a cancellation that arrives as the attempt completes (cpython gh-86296),
    so the bridge went on reading, and reconnecting, for ever. Stopped many times while a server accepts and drops
    it as fast as it comes, and while nothing listens, it stops every time."""
    server = socket.create_server(LOCAL)
    port = server.getsockname()[1]
    closing = threading.Event()

    def drop_everyone() -> None:
        while not closing.is_set():
            with suppress(OSError):
                conn, _ = server.accept()
                conn.close()

    dropper = threading.Thread(target=drop_everyone, daemon=True)
    dropper.start()
    try:
        for attempt in range(60):
            if attempt == 30:  # then nothing listens: every attempt is refused at once
                closing.set()
                server.close()
            bridge = TakSubscriber(InboxWriter(client, keys, "rs-tak"), "127.0.0.1", port, backoff=0.0005,
                                   backoff_max=0.0005)
            stop = threading.Event()
            thread = threading.Thread(target=bridge.run, args=(stop,), daemon=True)
            thread.start()
            stop.set()  # _main sees it only after its first 0.1 s nap: many attempts happen before the cancel
            thread.join(timeout=5)
            assert not thread.is_alive(), f"the bridge did not stop (attempt {attempt})"
    finally:
        closing.set()
        server.close()


def _hello_times(sent: bytes) -> tuple[str, str, str, str]:
    from lxml import etree
    event = etree.fromstring(sent)
    return event.get("uid"), event.get("time"), event.get("start"), event.get("stale")


def test_tak110_the_bridge_reconnects_to_a_tak_server_and_feeds_the_inbox(client, keys):
    """The ``--hello`` position report goes first on every connection, dated then (it was sent with the times of
    the file, so a server took the bridge for a unit whose report went stale long ago)."""
    server = socket.create_server(LOCAL)
    port = server.getsockname()[1]
    moments = iter([datetime(2026, 11, 30, 9, 0, tzinfo=UTC), datetime(2026, 11, 30, 9, 5, tzinfo=UTC)])
    bridge = TakSubscriber(InboxWriter(client, keys, "rs-tak"), "127.0.0.1", port, backoff=0.05, backoff_max=0.2,
                           hello=EVENTS[5], clock=lambda: next(moments))
    uid = _hello_times(EVENTS[5])[0]
    with running(bridge):
        conn, _ = server.accept()
        # the bridge introduces itself on every connection (the file's stale was 5 min after its time)
        assert _hello_times(read_event(conn)) == (uid, "2026-11-30T09:00:00.000000Z", "2026-11-30T09:00:00.000000Z",
                                                  "2026-11-30T09:05:00.000000Z")
        conn.sendall(EVENTS[0] + EVENTS[1][:50])
        conn.close()  # the server drops the bridge mid-message
        conn, _ = server.accept()
        assert _hello_times(read_event(conn))[1] == "2026-11-30T09:05:00.000000Z"
        conn.sendall(EVENTS[1] + bytes(xml2proto(EVENTS[2], TAKProtoVer.STREAM)))
        stored = payloads(client, keys, 4)
        conn.close()
    server.close()
    # what the server sent of the message it was cut off in is stored too (ingest dead-letters it)
    assert stored[:3] == [EVENTS[0], EVENTS[1][:50], EVENTS[1]] and stored[3].startswith(MESH_HEADER)
    assert bridge.counters.connections >= 2


def test_tak111_addresses_are_checked():
    assert parse_address("239.2.3.1:6969") == ("239.2.3.1", 6969)
    assert parse_address("8087") == ("0.0.0.0", 8087)
    with pytest.raises(ValueError, match="port"):
        parse_address("host:eighty")
    assert parse_address("localhost:8087") == ("localhost", 8087)
    for bad in ("999.1.1.1:5", "no-such-host.invalid:5"):
        with pytest.raises(ValueError, match="not an address"):
            parse_address(bad)


def _report_through_both_ingests(client, keys, regions, feed: str):
    """The 14c position report sent over UDP to a listener of ``feed``; returns the asset store."""
    from alerts.formats.assets import parse_import
    from alerts.store.assets import AssetStore
    from alerts.store.producer import forward_assets
    from tests.conftest import asset_pipeline

    feeds = FeedRegistry.load(ROOT / "tests" / "data" / "feeds.toml")
    assets, _ = parse_import((DATA / "cases" / "14a_asset-import.geojson").read_bytes(), "14a.geojson")
    store = AssetStore(client, keys)
    store.put_many(assets)
    now = datetime(2026, 11, 29, 13, 48, 20, tzinfo=UTC)
    alerts = alert_pipeline(client, keys, regions, clock=lambda: now, feeds=feeds,
                            to_assets=lambda found: forward_assets(client, keys, found))
    report = (DATA / "cases" / "14c_cot-pli-correct-time-1.xml").read_bytes()
    with listening(client, keys, Endpoints(udp=LOCAL), feed=feed) as listener, running(stream_ingest(alerts)), \
            running(stream_ingest(asset_pipeline(client, keys, clock=lambda: now, feeds=feeds), assets=True)):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(bytes(xml2proto(report)), ("127.0.0.1", listener.ports["udp"]))  # SA multicast form
        wait_for(lambda: store.get("ANDROID-qa-heli-rs-01").position.lat == 43.9 or client.xlen(keys.assets_dead),
                 what="the asset moved or the report dead-lettered")
    return store


def test_tak112_a_position_report_of_a_registered_unit_moves_its_asset_through_both_ingests(client, keys, regions):
    moved = _report_through_both_ingests(client, keys, regions, "rs-tak").get("ANDROID-qa-heli-rs-01")
    assert (moved.position.lat, moved.position.lon) == (43.9, 21.1)
    assert not client.xlen(keys.dead_letters) and not client.xlen(keys.assets_dead)


@pytest.mark.parametrize("feed", ["mk-crisis-centre", "no-such-feed"])
def test_tak112b_a_position_report_on_another_nations_listener_moves_nothing_and_says_why(client, keys, regions, feed):
    """The RS helicopter's uid is an RS feed's prefix, but the report came in on the MK listener (or one whose
    feed is not registered): a device there cannot move RS units, whatever uid it takes."""
    unmoved = _report_through_both_ingests(client, keys, regions, feed).get("ANDROID-qa-heli-rs-01")
    assert (unmoved.position.lat, unmoved.position.lon) == (44.8125, 20.4612)
    (_, letter), = client.xrange(keys.assets_dead)
    reason = letter[b"reason"].decode()
    assert feed in reason and ("only the asset's own nation" in reason or "not registered" in reason), reason


def test_tak113_udp_multicast_situational_awareness_is_received(client, keys):
    from alerts.ingest.tak.listener import _udp_socket

    try:
        _udp_socket(("239.2.3.1", 0)).close()
    except OSError as exc:
        pytest.skip(f"this host cannot join a multicast group: {exc}")
    with listening(client, keys, Endpoints(udp=("239.2.3.1", 0))) as listener:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sock.sendto(bytes(xml2proto(EVENTS[0])), ("239.2.3.1", listener.ports["udp"]))
            assert payloads(client, keys, 1) == [bytes(xml2proto(EVENTS[0]))]


def test_tak090_a_stop_during_a_store_lets_the_batch_land_before_anything_after_it(tmp_path):
    """A listener stopped mid-stream stored 0-544, then 636 on, and 545-635 later or never (cot006 under
    load): the stop cancelled the connection while its batch was on its way in a thread, and the connection
    then stored what it had read after it. Now a cancelled ``put`` returns only once its batch is stored."""
    from alerts.ingest.tak.inbox import InboxWriter
    from alerts.store.keys import Keys
    from tests.conftest import run_async
    from tests.valkey_nodes import data_node

    node = data_node(tmp_path).start()
    try:
        client, keys = node.client(), Keys("tak090")
        writer = InboxWriter(client, keys, "rs-tak")
        batch = [f"<event uid='B-{i}'/>".encode() for i in range(5)]
        seen = {}

        async def main():
            client.execute_command("CLIENT", "PAUSE", 400, "WRITE")  # the batch's XADD waits in the server
            task = asyncio.ensure_future(writer.put(batch))
            for _ in range(3):  # a few turns of the loop: the batch's thread is started (it waits on the server)
                await asyncio.sleep(0)
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            seen["at_cancel"] = client.xlen(keys.inbox)
            await writer.put([b"<event uid='after'/>"])  # what the connection stores next, on its way out

        run_async(main)
        assert seen["at_cancel"] == len(batch)  # landed before the cancelled put returned
        stored = [fields[b"payload"] for _, fields in client.xrange(keys.inbox)]
        assert stored == [*batch, b"<event uid='after'/>"] and writer.counters.stored == len(batch) + 1
    finally:
        node.stop()
