"""Framing a TAK byte stream: XML on </event>, TAK protocol v1 streaming protobuf, control messages."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from takproto import TAKProtoVer, xml2proto

from alerts.formats.cot.tak import MESH_HEADER, cot_xml_of
from alerts.ingest.tak.framing import Framer, control_kind, datagram_messages, response_event, support_event
from tests.conftest import DATA

SAMPLES = sorted((DATA / "cot").glob("*.xml"))
EVENTS = [path.read_bytes().strip() for path in SAMPLES]
NOW = datetime(2026, 11, 29, 13, 40, tzinfo=UTC)


def frame_in_pieces(stream: bytes, cuts: list[int], max_bytes: int = 1 << 20) -> tuple[list[bytes], Framer]:
    framer, found, start = Framer(max_bytes), [], 0
    for cut in sorted(set(cuts)) + [len(stream)]:
        found += framer.feed(stream[start:cut])
        start = cut
    return found, framer


@given(st.lists(st.integers(min_value=0, max_value=sum(len(e) + 2 for e in EVENTS)), max_size=40))
def test_tak001_xml_events_cut_anywhere_come_out_whole_and_in_order(cuts):
    stream = b"\r\n".join(EVENTS) + b"\n"
    found, framer = frame_in_pieces(stream, cuts)
    assert found == EVENTS
    assert framer.error is None


def test_tak002_several_events_in_one_chunk_with_declarations_and_keepalive_nuls_between():
    chunk = b"\x00\n".join(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + e for e in EVENTS)
    found = Framer(1 << 20).feed(chunk)
    assert [f.split(b"?>", 1)[1].strip() for f in found] == EVENTS


def test_tak003_the_delimiter_split_between_two_reads_is_found():
    event = EVENTS[0]
    framer = Framer(1 << 20)
    for split in range(len(event) - 8, len(event)):
        assert framer.feed(event[:split]) == []
        assert framer.feed(event[split:]) == [event]


def test_tak004_streaming_protobuf_byte_by_byte_becomes_mesh_messages_that_decode_back():
    protos = [bytes(xml2proto(e, TAKProtoVer.STREAM)) for e in EVENTS]
    framer, found = Framer(1 << 20), []
    for byte in b"".join(protos):
        found += framer.feed(bytes([byte]))
    assert len(found) == len(EVENTS)
    assert all(f.startswith(MESH_HEADER) for f in found)
    assert [f[3:] for f in found] == [bytes(xml2proto(e, TAKProtoVer.MESH))[3:] for e in EVENTS]
    assert b'uid="ANDROID-R52JB0CDC4E"' in cot_xml_of(found[1])


def test_tak005_xml_then_protobuf_on_one_connection_as_after_negotiation():
    stream = EVENTS[0] + b"\n" + bytes(xml2proto(EVENTS[1], TAKProtoVer.STREAM)) + EVENTS[2]
    found, _ = frame_in_pieces(stream, [random.Random(5).randrange(len(stream)) for _ in range(6)])
    assert found[0] == EVENTS[0] and found[2] == EVENTS[2]
    assert found[1].startswith(MESH_HEADER)


def test_tak006_an_xml_message_over_the_limit_stops_framing_with_the_reason():
    framer = Framer(200)
    assert framer.feed(EVENTS[6][:150]) == []
    assert framer.feed(EVENTS[6][150:]) == []
    assert framer.error and "limit 200" in framer.error and framer.oversized
    assert framer.feed(EVENTS[0]) == []  # nothing more on a connection whose framing is lost


def test_tak007_no_delimiter_within_the_limit_is_oversized_before_the_whole_message_arrives():
    framer = Framer(1000)
    assert framer.feed(b"<event " + b"x" * 1200) == []
    assert framer.oversized and "1000" in framer.error


def test_tak008_a_protobuf_length_over_the_limit_and_a_broken_varint_are_refused():
    framer = Framer(100)
    assert framer.feed(b"\xbf\xe8\x07") == []  # 1000 bytes announced
    assert framer.oversized
    broken = Framer(1 << 20)
    broken.feed(b"\xbf" + b"\xff" * 11)
    assert broken.error and not broken.oversized


def test_tak009_messages_before_an_oversized_one_in_the_same_chunk_are_kept():
    framer = Framer(len(EVENTS[0]) + 10)
    found = framer.feed(EVENTS[0] + b"<event>" + b"y" * 2000)
    assert found == [EVENTS[0]] and framer.oversized


@pytest.mark.parametrize("message, kind", [
    (b'<event version="2.0" uid="x" type="t-x-c-t" how="h-g-i-g-o"><point/></event>', "t-x-c-t"),
    (b"<?xml version='1.0'?><event type='t-x-takp-q' uid='a'><detail><TakControl><TakRequest version='1'/>"
     b"</TakControl></detail></event>", "t-x-takp-q"),
    (b'<event version="2.0" uid="t-x-c-t" type="b-a-o-tbl"></event>', None),
    (EVENTS[0], None),
])
def test_tak010_pings_and_negotiation_are_recognised_by_type_alone(message, kind):
    assert control_kind(message) == kind
    if message.startswith(b"<event version"):
        assert control_kind(bytes(xml2proto(message))) == kind


def test_tak011_the_negotiation_events_are_well_formed_cot_of_the_right_types():
    assert control_kind(support_event(NOW)) == "t-x-takp-v"
    assert control_kind(response_event(NOW)) == "t-x-takp-r"
    assert b'<TakResponse status="true"/>' in response_event(NOW)
    assert b'time="2026-11-29T13:40:00.000Z"' in support_event(NOW)


def test_tak012_a_datagram_is_one_message_and_a_streaming_protobuf_one_becomes_mesh():
    stream = bytes(xml2proto(EVENTS[0], TAKProtoVer.STREAM))
    mesh = bytes(xml2proto(EVENTS[0], TAKProtoVer.MESH))
    assert datagram_messages(EVENTS[0], 1 << 20) == [EVENTS[0]]
    assert datagram_messages(mesh, 1 << 20) == [mesh]
    assert datagram_messages(stream, 1 << 20) == [mesh]
    assert datagram_messages(stream[:-3], 1 << 20) == [stream[:-3]]  # truncated: kept as received
