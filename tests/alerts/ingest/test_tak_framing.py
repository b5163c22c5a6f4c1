"""Framing a TAK byte stream: XML on </event>, TAK protocol v1 streaming protobuf, control messages."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from takproto import TAKProtoVer, xml2proto

from alerts.formats.cot.tak import MESH_HEADER, cot_xml_of
from alerts.formats.decode import decode_tak_alert
from alerts.ingest.tak.framing import (
    UTF16_ON_A_STREAM,
    Framer,
    control_kind,
    datagram_messages,
    response_event,
    support_event,
)
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
    # pytak's and TAK Server's keep-alive is a deletion of uid takPing: a ping (it was dead-lettered each time)
    (b'<event version="2.0" type="t-x-d-d" uid="takPing" how="m-g"><point/></event>', "t-x-d-d"),
    (b'<event version="2.0" type="t-x-d-d" uid="ANDROID-1" how="m-g"><point/></event>', None),  # a real deletion
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


# --- the message's own structure decides where it ends (breaker findings: a 911 lost after a ping) ------------

PING = b'<event version="2.0" uid="ping-1" type="t-x-c-t" how="h-g-i-g-o" time="2026-11-29T13:40:00Z"/>'
EMERGENCY = (b'<event version="2.0" uid="ANDROID-BA-7-9-1-1" type="b-a-o-tbl" how="h-e" time="2026-11-29T13:40:00Z" '
             b'start="2026-11-29T13:40:00Z" stale="2026-11-29T13:50:00Z"><point lat="43.85" lon="18.41" hae="0" '
             b'ce="10" le="10"/><detail><emergency type="911 Alert">BIH Bravo</emergency></detail></event>')


def test_tak013_a_self_closed_ping_is_a_whole_message_and_the_911_after_it_is_its_own():
    found, framer = frame_in_pieces(PING + EMERGENCY, [len(PING) - 1, len(PING) + 3])
    assert found == [PING, EMERGENCY] and not framer.pending
    assert [control_kind(m) for m in found] == ["t-x-c-t", None]


@pytest.mark.parametrize("decoy", [
    b"<remarks><![CDATA[<event type='t-x-c-t'> </event> />]]></remarks>",
    b"<!-- <event type=\"t-x-c-t\"/> </event> -->",
    b"<remarks>type=\"t-x-c-t\"</remarks>",
])
def test_tak014_cdata_comments_and_text_neither_end_an_event_nor_make_it_a_ping(decoy):
    event = EMERGENCY.replace(b"<detail>", b"<detail>" + decoy)
    found, framer = frame_in_pieces(event + PING, list(range(0, len(event), 7)))
    assert found == [event, PING] and control_kind(found[0]) is None
    assert control_kind(b"<!-- <event type='t-x-c-t'/> -->" + EMERGENCY) is None


def test_tak015_attribute_values_may_hold_the_delimiters_and_the_type_is_read_from_the_type_attribute_only():
    tricky = EMERGENCY.replace(b'how="h-e"', b"how=\"h-e\" remarks='a/> b > </event> x type=\"t-x-c-t\"'")
    assert frame_in_pieces(tricky + PING, [40, 90])[0] == [tricky, PING]
    assert control_kind(tricky) is None


@pytest.mark.parametrize("end", [b"</event >", b"</event\n>", b"</event\r\n\t >"])
def test_tak016_an_end_tag_with_white_space_before_its_bracket_ends_the_event(end):
    event = EMERGENCY.replace(b"</event>", end)
    assert frame_in_pieces(event + PING, [len(event) - 2, len(event) - 1])[0] == [event, PING]


@pytest.mark.parametrize("junk", [b"garbage\n", b"HTTP/1.1 200 OK\r\n\r\n", b"</detail></event>", b"<foo>bar</foo>",
                                  EMERGENCY[:120]])
def test_tak017_junk_is_a_message_of_its_own_and_never_takes_the_next_event_with_it(junk):
    found, framer = frame_in_pieces(junk + EMERGENCY + PING, [5, len(junk) + 3])
    assert found[-2:] == [EMERGENCY, PING] and b"".join(found[:-2]).strip() == junk.strip()


def _stream_frame(body: bytes, length: int) -> bytes:
    return bytes([0xBF]) + bytes(_Varint(length)) + body


def _Varint(value: int) -> bytearray:  # noqa: N802
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return out


def test_tak018_a_protobuf_frame_that_does_not_parse_gives_back_the_xml_event_it_swallowed():
    body = bytes(xml2proto(EVENTS[0], TAKProtoVer.MESH))[3:]
    assert Framer(1 << 20).feed(_stream_frame(body, len(body))) == [MESH_HEADER + body]
    broken = _stream_frame(body, len(body) + 40)  # a length 40 bytes too long: it takes in the next event's start
    found, framer = frame_in_pieces(broken + EMERGENCY + PING, [len(broken) + 10])
    assert found == [broken, EMERGENCY, PING]


def test_tak019_what_is_left_when_the_connection_ends_is_flushed_never_dropped():
    framer = Framer(1 << 20)
    assert framer.feed(EMERGENCY + EMERGENCY[:100]) == [EMERGENCY] and framer.pending
    assert framer.flush() == [EMERGENCY[:100]] and not framer.pending
    proto = bytes(xml2proto(EVENTS[0], TAKProtoVer.STREAM))
    assert framer.feed(proto[:-5] + b"\n") == []  # a frame cut short ...
    assert framer.flush() == [proto[:-5]]  # ... is handed on as read
    assert framer.feed(proto[:20] + EMERGENCY[:50]) == []  # a frame cut short with an event cut short after it
    assert framer.flush() == [proto[:20], EMERGENCY[:50]]


def solid(data: bytes) -> bytes:
    return bytes(b for b in data if b not in b" \t\r\n\x00")


_PIECES = st.sampled_from([EMERGENCY, PING, EVENTS[0], EVENTS[3], b"junk ", b"\x00\n", b"<?xml version='1.0'?>",
                           EMERGENCY[:60], EMERGENCY[:150], b"</event>", b"<!-- c -->", b"<![CDATA[ </event> ]]>",
                           b"a/>", b"<event", b"'", b'"'])


@settings(deadline=None, max_examples=400)
@given(st.lists(_PIECES, max_size=12), st.lists(st.integers(min_value=0, max_value=3000), max_size=12))
def test_tak020_nothing_read_is_lost_and_every_whole_event_after_junk_comes_out_whole(pieces, cuts):
    stream = b"".join(pieces)
    found, framer = frame_in_pieces(stream, [c for c in cuts if c <= len(stream)])
    found += framer.flush()
    assert framer.error is None

    assert solid(b"".join(found)) == solid(stream)
    solid_pieces = [p for p in pieces if solid(p)]  # white space and NULs between pieces belong to neither
    for before, piece in zip([b""] + solid_pieces, solid_pieces):
        if piece in (EMERGENCY, PING) and not before.startswith((b"<?xml", b"<!--")):  # (a prolog of the event)
            assert piece in found


def test_tak021_an_event_cut_off_after_its_declaration_is_flushed_with_it():
    framer = Framer(1 << 20)
    assert framer.feed(EVENTS[0][:70]) == []
    assert framer.flush() == [EVENTS[0][:70]]


def test_tak022_a_byte_order_mark_and_processing_instructions_belong_to_the_event():
    bom = b"\xef\xbb\xbf" + EVENTS[0]
    assert Framer(1 << 20).feed(bom + PING) == [bom, PING]
    with_pi = EMERGENCY.replace(b"<detail>", b"<detail><?app note </event> /> ?>")
    assert frame_in_pieces(with_pi + PING, [len(with_pi) // 2])[0] == [with_pi, PING]


def test_tak023_a_datagram_is_framed_like_a_stream():
    assert datagram_messages(EMERGENCY + b"\x00", 1 << 20) == [EMERGENCY]
    assert datagram_messages(EMERGENCY + b"\n" + PING, 1 << 20) == [EMERGENCY, PING]
    assert datagram_messages(b"junk" + EMERGENCY, 1 << 20) == [b"junk", EMERGENCY]


# --- UTF-16 (breaker finding: a UTF-16 stream was framed as one message with its last byte cut off) ---------

def _utf16(event: bytes, codec: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-16"?>' + event.decode()).encode(codec)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_tak024_a_stream_in_utf16_is_refused_with_the_reason_and_its_bytes_as_read(codec):
    utf16 = _utf16(EMERGENCY, codec)
    framer = Framer(1 << 20)
    assert framer.feed(PING + b"\n" + utf16 + EMERGENCY) == [PING]  # what came before is kept
    assert framer.error == UTF16_ON_A_STREAM and not framer.oversized
    assert framer.refused == b"\n" + utf16 + EMERGENCY  # as read: nothing cut off, a BE "<" with its NUL
    cut = Framer(1 << 20)  # its first byte alone tells nothing yet
    assert cut.feed(utf16[:1]) == [] and cut.error is None
    cut.feed(utf16[1:])
    assert cut.error == UTF16_ON_A_STREAM
    assert cut.refused == (utf16[1:] if utf16[0] == 0 else utf16)  # (a NUL read by itself is a keep-alive)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_tak025_a_datagram_in_utf16_is_one_message_as_received_and_decodes_like_utf8(codec):
    utf16 = _utf16(EMERGENCY, codec)
    assert datagram_messages(utf16, 1 << 20) == [utf16]
    assert decode_tak_alert(utf16, 1 << 20) == decode_tak_alert(EMERGENCY, 1 << 20)


def test_tak026_a_byte_order_mark_does_not_hide_a_ping_or_a_negotiation_request():
    """Breaker finding: a BOM-prefixed ping was stored (and dead-lettered) instead of counted."""
    bom = b"\xef\xbb\xbf"
    framer = Framer(1 << 20)
    found = framer.feed(bom + PING + b"\n" + bom + b"<?xml version='1.0'?>" + PING.replace(b"t-x-c-t", b"t-x-takp-q"))
    assert [control_kind(m) for m in found] == ["t-x-c-t", "t-x-takp-q"]


def test_tak027_a_flood_of_keep_alive_bytes_is_skipped_whole_and_the_event_after_it_framed():
    framer = Framer(1 << 20)
    assert framer.feed(b"\x00" * 1_000_000 + b" \r\n" * 1000) == [] and not framer.pending
    assert framer.feed(b"\x00" * 10 + EMERGENCY + b"\x00" * 100) == [EMERGENCY]
