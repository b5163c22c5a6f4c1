"""The CoT listener's outbound stream: a TAK client of a feed with ``outbound = true`` receives, on the
connection it sends on, the incidents released to its feed's nation (as ``cot send`` renders them); what is
published after the connection was accepted reaches it once, in order, however late its stream first reads."""
from __future__ import annotations

import contextlib
import socket
import threading
from contextlib import contextmanager

import pytest
from lxml import etree

from alerts.actions.cot_picture import CotPicture, Openings
from alerts.core.feeds import FeedRegistry
from alerts.core.viewer import Viewer
from alerts.formats.cot.tak import MESH_HEADER, cot_xml_of
from alerts.formats.decode import decode_alert
from alerts.ingest.tak.outbound import Peer
from alerts.store.alerts import AlertStore
from alerts.store.assets import AssetStore
from dashboard.cot_listener import ListenSpec, build_listener
from dashboard.cot_outbound import FeedOutbound, RegistryWatch
from dashboard.settings import Settings
from tests.conftest import DATA, alert_pipeline, make_alert, mark, payload, wait_for

FEEDS = """
[[feeds]]
name = "ba-tak"
nation = "BA"
releasable_to = ["BA"]
cot_uid_prefix = "BA-"
outbound = {ba}

[[feeds]]
name = "hr-tak"
nation = "HR"
releasable_to = ["HR"]
cot_uid_prefix = "HR-"
outbound = true

[[feeds]]
name = "rs-tak"
nation = "RS"
releasable_to = ["RS"]
cot_uid_prefix = "RS-"
"""


def _position(uid: str) -> bytes:
    sample = (DATA / "cot" / "fts_a-f-G-U-C.xml").read_bytes().strip()
    return sample.replace(b"uid='ANDROID-R52JB0CDC4E'", f"uid='{uid}'".encode())


class TakClient:
    """A plain TCP TAK client: sends CoT, reads the CoT events written back (one ``</event>`` at a time)."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buffer = b""

    def events(self, want: int) -> list[bytes]:
        found = []
        while len(found) < want:
            if b"</event>" in self.buffer:
                event, self.buffer = self.buffer.split(b"</event>", 1)
                found.append((event + b"</event>").strip())
                continue
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed after {len(found)} of {want} events"
            self.buffer += chunk
        return found

    def until(self, found, limit: int = 10) -> list[bytes]:
        """Events read up to and including the first for which ``found(event)`` holds (at most ``limit``)."""
        seen = []
        while len(seen) < limit:
            seen += self.events(1)
            if found(seen[-1]):
                return seen
        raise AssertionError(f"not among the next {limit} events: {[_uid(e) for e in seen]}")

    def closed_by_peer(self) -> bool:
        """Whether the listener closed the connection (reads and discards whatever comes before)."""
        with contextlib.suppress(ConnectionResetError):
            while chunk := self.sock.recv(65536):
                self.buffer += chunk
        return True


@contextmanager
def listening(tmp_path, centre, client, keys, feed: str, ba_outbound: str = "true", pki=None, **options):
    path = tmp_path / "feeds.toml"
    if not path.exists():
        path.write_text(FEEDS.format(ba=ba_outbound), encoding="utf-8")
    where = client.connection_pool.connection_kwargs  # the server the test's client talks to
    settings = Settings(prefix=keys.prefix, feeds_file=path, **options,
                        redis_url=f"redis://{where['host']}:{where['port']}/{where.get('db', 0)}")
    spec = ListenSpec(feed, tcp=("127.0.0.1", 0)) if pki is None else ListenSpec(
        feed, tls=("127.0.0.1", 0), certfile=pki.server_cert, keyfile=pki.server_key, cafile=pki.ca)
    listener = build_listener(spec, settings, client, FeedRegistry.load(path), centre)
    stop = threading.Event()
    thread = threading.Thread(target=listener.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(listener.ready.is_set, what="the listener")
        yield listener
    finally:
        stop.set()
        thread.join(timeout=10)


def _uid(event: bytes) -> str:
    return etree.fromstring(event).get("uid")


def test_cob001_a_tak_client_receives_its_nations_incidents_on_the_connection_it_sends_on(
        tmp_path, centre, client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions, on_recorded=centre.workflow.open_checklists)
    with listening(tmp_path, centre, client, keys, "ba-tak") as ba, \
            listening(tmp_path, centre, client, keys, "hr-tak") as hr:
        device, other = TakClient(ba.ports["tcp"]), TakClient(hr.ports["tcp"])
        device.sock.sendall(_position("BA-unit-1"))  # the same client sends ...
        wait_for(lambda: any(b"BA-unit-1" in f[b"payload"] and f[b"feed"] == b"ba-tak"
                             for _, f in client.xrange(keys.inbox)), what="the device's report in the inbox")
        ba_only = make_alert(source="BA", releasable_to=["BA"], title="BA only")
        both = make_alert(source="BA", releasable_to=["BA", "HR"], title="BA and HR")
        pipeline.process([("test", payload(ba_only)), ("test", payload(both))])
        # ... and receives the centre's picture, as cot send renders it
        assert [decode_alert(e).id for e in device.events(2)] == [ba_only["id"], both["id"]]
        # HR's feed gets the shared one first: the BA-only incident was never sent to it
        assert decode_alert(other.events(1)[0]).id == both["id"]

        pipeline.process([("test", payload(make_alert(source="BA", releasable_to=["BA"], msg_type="update",
                                                      references=[both["id"]], title="BA and HR, updated")))])
        device.until(lambda e: decode_alert(e).title == "BA and HR, updated")
        pipeline.process([("test", payload(make_alert(source="BA", releasable_to=["BA"], msg_type="cancel",
                                                      references=[both["id"]])))])
        by_uid = {_uid(e): e for e in device.until(lambda e: _uid(e) == f"crisis.alert.{both['id']}.delete")}
        assert etree.fromstring(by_uid[f"crisis.alert.{both['id']}"]).find("detail/crisis").get(
            "status") == "cancelled"
        centre.workflow.acknowledge(ba_only["id"], mark("duty-ba"))
        centre.workflow.resolve(ba_only["id"], mark("duty-ba"))
        resolved = device.until(lambda e: _uid(e) == f"crisis.alert.{ba_only['id']}.delete")
        statuses = [etree.fromstring(e).find("detail/crisis").get("status") for e in resolved[:-1]
                    if _uid(e) == f"crisis.alert.{ba_only['id']}"]
        assert statuses == ["acknowledged", "resolved"]
        device.sock.close()
        other.sock.close()
    audit = [f for _, f in client.xrange(keys.audit)]
    assert any(f[b"actor"] == b"feed:ba-tak" and b"tak-outbound" in b"".join(f.values()) for f in audit)


def test_cob002_a_feed_without_outbound_only_receives(tmp_path, centre, client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions)
    with listening(tmp_path, centre, client, keys, "rs-tak") as rs, \
            listening(tmp_path, centre, client, keys, "hr-tak") as hr:
        assert rs.outbound is None and hr.outbound is not None
        shown = make_alert(source="RS", releasable_to=["ALL"])
        pipeline.process([("test", payload(shown))])  # open before the RS device connects
        device, witness = TakClient(rs.ports["tcp"]), TakClient(hr.ports["tcp"])
        assert decode_alert(witness.events(1)[0]).id == shown["id"]  # an outbound feed gets it on connect ...
        device.sock.sendall(_position("RS-unit-1"))
        wait_for(lambda: any(b"RS-unit-1" in f[b"payload"] for _, f in client.xrange(keys.inbox)),
                 what="the RS report in the inbox")
        device.sock.setblocking(False)
        try:
            data = device.sock.recv(65536)
        except BlockingIOError:
            data = None  # open, and nothing written to it
        assert data is None  # ... a feed without outbound only receives (b"" would be a closed connection)
        device.sock.close()
        witness.sock.close()


def test_cob003_revoking_outbound_in_the_registry_or_stopping_the_listener_ends_the_stream(
        tmp_path, centre, client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions)
    with listening(tmp_path, centre, client, keys, "ba-tak") as ba:
        device = TakClient(ba.ports["tcp"])
        first = make_alert(source="BA", releasable_to=["BA"])
        pipeline.process([("test", payload(first))])
        assert decode_alert(device.events(1)[0]).id == first["id"]
        (tmp_path / "feeds.toml").write_text(FEEDS.format(ba="false"), encoding="utf-8")
        assert device.closed_by_peer()  # recv returned b"": the listener closed the connection
        later = TakClient(ba.ports["tcp"])  # a reconnect is a receive-only connection now
        later.sock.sendall(_position("BA-unit-2"))
        wait_for(lambda: any(b"BA-unit-2" in f[b"payload"] for _, f in client.xrange(keys.inbox)),
                 what="the report sent after the revocation")
        (tmp_path / "feeds.toml").write_text(FEEDS.format(ba="true"), encoding="utf-8")
    with listening(tmp_path, centre, client, keys, "ba-tak") as ba:
        device = TakClient(ba.ports["tcp"])
        assert decode_alert(device.events(1)[0]).id == first["id"]  # open incidents first
        stopping = ba
    assert device.closed_by_peer() and stopping.ready.is_set() is False


def test_cob007_a_full_listener_s_outbound_streams_leave_the_process_its_redis_connections(
        tmp_path, centre, client, keys, regions):
    """120 TAK devices following the picture, on a listener that admits 150: more than a redis-py 8 pool
    holds (100). Every device gets each new incident, and the process's own client (the listener's inbox,
    ingest) still works meanwhile. Each stream's blocking reads held a connection of that one pool: past 100
    the streams failed, and a device's report waited in the listener until connections came free."""
    pipeline = alert_pipeline(client, keys, regions)
    with listening(tmp_path, centre, client, keys, "ba-tak", cot_max_connections=150,
                   cot_max_per_address=150) as ba:
        devices = [TakClient(ba.ports["tcp"]) for _ in range(120)]
        wait_for(lambda: ba.counters.connections >= 120, what="120 devices connected")
        first = make_alert(source="BA", releasable_to=["BA"], title="To every BA device")
        pipeline.process([("test", payload(first))])
        assert all(decode_alert(device.events(1)[0]).id == first["id"] for device in devices)
        devices[0].sock.sendall(_position("BA-unit-full"))
        wait_for(lambda: any(b"BA-unit-full" in f[b"payload"] for _, f in client.xrange(keys.inbox)),
                 what="a device's report stored while 120 streams follow")
        second = make_alert(source="BA", releasable_to=["BA"], title="Still to every BA device")
        pipeline.process([("test", payload(second))])
        assert all(decode_alert(device.events(1)[0]).id == second["id"] for device in devices)
        assert ba.outbound.openings.reads < 120  # devices connecting together share the opening's read
        for device in devices:
            device.sock.close()


def test_cob008_a_client_that_negotiated_protobuf_is_sent_the_picture_in_protobuf(
        tmp_path, centre, client, keys, regions):
    """TAK Protocol: once the listener answers ``t-x-takp-q`` with ``TakResponse status="true"``, both
    directions are protobuf. The picture went on in XML, which a client that switched cannot read."""
    request = (b'<event version="2.0" uid="BA-unit-9" type="t-x-takp-q" time="2026-01-01T00:00:00Z" '
               b'start="2026-01-01T00:00:00Z" stale="2026-01-01T00:01:00Z" how="m-g"><point lat="0" lon="0" '
               b'hae="0" ce="999999" le="999999"/><detail><TakControl><TakRequest version="1"/></TakControl>'
               b"</detail></event>")
    pipeline = alert_pipeline(client, keys, regions)
    with listening(tmp_path, centre, client, keys, "ba-tak") as ba:
        device = TakClient(ba.ports["tcp"])
        device.sock.sendall(request)
        assert b'<TakResponse status="true"/>' in device.events(1)[0]
        incident = make_alert(source="BA", releasable_to=["BA"], title="Sent in protobuf")
        pipeline.process([("test", payload(incident))])
        body = _protobuf_message(device)
        device.sock.close()
    assert decode_alert(cot_xml_of(MESH_HEADER + body)).id == incident["id"]


def _protobuf_message(device: TakClient) -> bytes:
    """The body of the next TAK streaming protobuf message (``0xBF``, varint length, body) on ``device``."""
    def need(count: int) -> None:
        while len(device.buffer) < count:
            chunk = device.sock.recv(65536)
            assert chunk, "connection closed"
            device.buffer += chunk

    need(1)
    assert device.buffer[:1] == b"\xbf", device.buffer[:80]  # not XML
    length, shift, at = 0, 0, 1
    while True:
        need(at + 1)
        byte = device.buffer[at]
        length |= (byte & 0x7F) << shift
        shift, at = shift + 7, at + 1
        if not byte & 0x80:
            break
    need(at + length)
    body, device.buffer = device.buffer[at:at + length], device.buffer[at + length:]
    return body


def test_cob004_pytak_over_tls_sends_and_receives_on_one_connection_audited_with_its_certificate(
        tmp_path, centre, client, keys, regions):
    """A real TAK client library (pytak) with a client certificate: what it sends is stored, and its reader
    gets the incident published to the centre; the audit trail names the feed and the certificate."""
    import asyncio
    import concurrent.futures
    from configparser import ConfigParser

    import pytak

    from tests.alerts.ingest.tak_certs import issue_certificates

    pki = issue_certificates(tmp_path)
    pipeline = alert_pipeline(client, keys, regions)
    incident = make_alert(source="BA", releasable_to=["BA"], title="For the BA devices")
    with listening(tmp_path, centre, client, keys, "ba-tak", pki=pki) as ba:
        parser = ConfigParser()
        parser["ba"] = {"COT_URL": f"tls://127.0.0.1:{ba.ports['tls']}", "PYTAK_TLS_CLIENT_CERT": str(pki.client_cert),
                        "PYTAK_TLS_CLIENT_KEY": str(pki.client_key), "PYTAK_TLS_CLIENT_CAFILE": str(pki.ca),
                        "PYTAK_TLS_DONT_CHECK_HOSTNAME": "1"}

        async def device() -> bytes:
            reader, writer = await pytak.protocol_factory(parser["ba"])
            await pytak.TXWorker(asyncio.Queue(), parser["ba"], writer).send_data(_position("BA-unit-tls"))
            await asyncio.to_thread(wait_for, lambda: any(b"BA-unit-tls" in f[b"payload"]
                                                          for _, f in client.xrange(keys.inbox)), 15, "stored")
            await asyncio.to_thread(pipeline.process, [("test", payload(incident))])
            received = await asyncio.wait_for(reader.readuntil(b"</event>"), 20)
            writer.close()
            return received

        # its own thread: a page test earlier in the same process (playwright's sync API) may leave an event
        # loop running in this one, where asyncio.run refuses to start
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            received = pool.submit(asyncio.run, device()).result(timeout=120)
    assert decode_alert(received[received.index(b"<event"):]).id == incident["id"]
    audit = [{k.decode(): v.decode() for k, v in f.items()} for _, f in client.xrange(keys.audit)]
    entry = next(e for e in audit if e["actor"] == "feed:ba-tak")
    assert "tak-outbound" in str(entry) and "CN=ANDROID-test" in str(entry)


BA_FEED = Viewer("feed:ba-tak", "responder", "BA", via="tak", clearance="UNCLASSIFIED")


class _Device:
    """``CotPicture.stream`` driven directly in a thread of its own, as the listener runs it for a connection:
    what it sent, in order, as ``(uid, status)``."""

    def __init__(self, picture: CotPicture):
        self.sent: list[tuple[str, str | None]] = []
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=picture.stream, args=(self._send, self.stop, 100), daemon=True)
        self.thread.start()

    def _send(self, data: bytes) -> None:
        crisis = etree.fromstring(data).find("detail/crisis")
        with self.changed:
            self.sent.append((_uid(data), crisis.get("status") if crisis is not None else None))
            self.changed.notify_all()

    def until(self, alert: dict, timeout: float = 30) -> list[tuple[str, str | None]]:
        """Everything sent up to the first event of ``alert``."""
        uid = f"crisis.alert.{alert['id']}"
        with self.changed:
            assert self.changed.wait_for(lambda: any(u == uid for u, _ in self.sent), timeout), self.sent
            return list(self.sent)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


class _RecordingWhileRead(AlertStore):
    """The real store, but ``arriving()`` is published (once) just as the opening picture starts reading the
    records: after the picture's cursors were taken, before its records are read."""

    def __init__(self, client, keys, arriving):
        super().__init__(client, keys)
        self.arriving = arriving

    def all_alerts(self, batch: int = 1000):
        if self.arriving is not None:
            arriving, self.arriving = self.arriving, None
            arriving()
        yield from super().all_alerts(batch)


def _ba(title: str) -> dict:
    return make_alert(source="BA", releasable_to=["BA"], title=title)


def test_cob005_what_is_published_between_accept_and_the_first_read_reaches_the_device_once_in_order(
        centre, client, keys, regions):
    """cob001 under load got 1 of 2 incidents: the stream's cursors were taken when its thread first read, the
    opening picture (the records, in Redis's SCAN order) then held what had been published since the accept,
    in any order, and an incident recorded between the cursor and the records was sent twice. Now the cursors
    are the accept's: what was published since is followed, once each, in stream order, changes included."""
    pipeline = alert_pipeline(client, keys, regions)
    before = _ba("Open before the accept")
    pipeline.process([("test", payload(before))])
    picture = CotPicture(centre, client, keys, BA_FEED)  # the connection is accepted
    first, second, last = _ba("First after"), _ba("Second after"), _ba("The last")
    pipeline.process([("test", payload(first))])
    pipeline.process([("test", payload(second))])
    centre.workflow.acknowledge(first["id"], mark("duty-ba"))
    device = _Device(picture)  # ... and its stream reads only now
    try:
        device.until(first)
        pipeline.process([("test", payload(last))])
        sent = device.until(last)
    finally:
        device.close()
    uid = "crisis.alert.{}".format
    assert sent == [(uid(before["id"]), "new"), (uid(first["id"]), "new"), (uid(second["id"]), "new"),
                    (uid(first["id"]), "acknowledged"), (uid(last["id"]), "new")]


def test_cob006_an_incident_recorded_while_the_opening_picture_is_read_is_sent_once(
        centre, client, keys, regions):
    """Deterministically the window cob001 hit: an incident recorded after the stream's cursor was taken and
    before the records were read was both in the opening picture and followed (sent twice)."""
    pipeline = alert_pipeline(client, keys, regions)
    before, during, last = _ba("Open before"), _ba("Recorded while the picture is read"), _ba("The last")
    pipeline.process([("test", payload(before))])
    store = _RecordingWhileRead(client, keys, lambda: pipeline.process([("test", payload(during))]))
    picture = CotPicture(centre, client, keys, BA_FEED, openings=Openings(store, AssetStore(client, keys)))
    device = _Device(picture)
    try:
        device.until(during)
        pipeline.process([("test", payload(last))])
        sent = device.until(last)
    finally:
        device.close()
    assert [u for u, _ in sent] == [f"crisis.alert.{a['id']}" for a in (before, during, last)]


@pytest.mark.parametrize(("peer", "sent"), [
    (Peer("tls", "192.0.2.10:40000", "CN=BIH-device-1"), True),
    (Peer("tcp", "127.0.0.1:40000"), True),
    (Peer("tcp", "[::1]:40000"), True),
    (Peer("tcp", "::ffff:127.0.0.1:40000"), True),
    (Peer("tcp", "192.0.2.10:40000"), False),
    (Peer("tcp", "10.1.2.3:40000"), False),
])
def test_cob009_plain_tcp_from_another_host_only_sends(tmp_path, centre, client, keys, peer, sent):
    """The shipped example registry has an outbound feed and `cot listen` binds every address: whoever reached
    the plain TCP port got the RESTRICTED picture. TCP carries no identity: the picture goes over TLS, and on
    plain TCP only to this host (a local relay or TLS terminator)."""
    path = tmp_path / "feeds.toml"
    path.write_text(FEEDS.format(ba="true"), encoding="utf-8")
    outbound = FeedOutbound(centre, client, keys, RegistryWatch(FeedRegistry.load(path), "ba-tak", path,
                                                                centre.scheme))
    assert (outbound(peer) is not None) is sent
