"""Framing of a TAK byte stream into whole messages, and the few control messages a listener answers itself.

A TAK stream (TCP or TLS) carries, one after another:

- **XML CoT** (TAK Protocol "version 0"): an optional prolog (XML
  declaration, comments, white space), then one ``<event>`` element, which
  ends at its end tag (``</event>``, white space allowed before the ``>``) or,
  for an empty element (``<event .../>``, a ping), at its start tag's ``/>``.
  The scan knows attribute quotes, CDATA sections, comments and processing
  instructions, so an ``</event>`` or ``/>`` inside them ends nothing; a UTF-8
  byte-order mark may begin a message. White space and NUL bytes
  (some clients' keep-alives) between messages are skipped. A ``<`` inside
  the start tag, or an ``<event`` or ``<?xml`` inside the body, cannot be
  part of a CoT event: the event was cut off there (see resynchronisation).
- **TAK Protocol version 1, streaming** (after the negotiation a client may
  start, see ``support_event``): ``0xBF``, the message length as a protobuf
  varint, one serialised ``TakMessage``. Each one is handed on in mesh form
  (``alerts.formats.cot.tak.MESH_HEADER`` + the message), which the ingest
  decoder recognises.

**Resynchronisation**: bytes that cannot begin a message (junk, a truncated
message, a protobuf frame that does not parse as a ``TakMessage``) are
handed on by themselves, up to the next place a message can begin
(``<?xml`` or ``<event``), so ingest dead-letters them with the parser's
reason and the next event is not taken with them. Nothing read is dropped:
``Framer.flush`` returns what is left when the connection ends (an event cut
off, a frame shorter than its length said), to be stored and dead-lettered
the same way.

A stream may switch from XML to protobuf at a message boundary (that is what
negotiation does); the framer looks at the first byte of every message.
``Framer.feed`` takes chunks cut anywhere and returns the messages completed
so far, scanning each byte about once however the chunks are cut; a message
over ``max_bytes`` (or a broken length prefix) sets ``Framer.error``, after
which the connection must be closed (its framing is lost).

A stream in UTF-16 cannot be framed (``UTF16_ON_A_STREAM``): it is refused like a broken length prefix.
A UDP datagram is one message (``datagram_messages``), UTF-16 too. Control messages
(``control_kind``), matched on the type attribute of the message's root
``<event>`` (protobuf: of its ``cotEvent``) only: pings (``t-x-c-t``,
``t-x-c-t-r``) and protocol negotiation (``t-x-takp-*``). The listener counts
them and does not store them; a negotiation request (``t-x-takp-q``) is
answered with ``response_event``.

Source of the conventions: the TAK Protocol description in ATAK-CIV
(``commoncommo/core/impl/protobuf/protocol.txt``) and TAK Server's stream
handling (XML events delimited by their end tag).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from alerts.formats.cot.tak import MESH_HEADER, tak_message

STREAM_MAGIC = 0xBF
_BOM = b"\xef\xbb\xbf"
#: How much of a message refused for its size is kept (``Framer.refused``) for the dead letter that says why.
REFUSED_KEPT = 65_536
_SKIPPED = b" \t\r\n\x00"
_SKIP_RUN = re.compile(b"[" + re.escape(_SKIPPED) + b"]*")  # (a run at once: a NUL flood costs no Python loop)
_VARINT_MAX_BYTES = 10
#: Where an XML message can begin: what a resynchronisation looks for.
_RESYNC = re.compile(rb"<\?xml[\s?]|<event[\s/>]")
_EVENT_OPEN = re.compile(rb"<event[\s/>]")
_TAG_STOP = re.compile(rb"[\"'<>]")
#: At a ``<`` in an event's body: CDATA, a comment, or the event's end tag.
_BODY_TOKEN = re.compile(rb"<(?:(!\[CDATA\[)|(!--)|(\?)|/event\s*>)")
_BODY_PREFIXES = (b"<![CDATA[", b"<!--", b"</event")
_PROLOG_PREFIXES = (b"<!--", b"<event")  # ("<?" is known at once)
#: The root start tag of an XML message (after its prolog) and its attributes.
_ROOT_TAG = re.compile(rb"""(?:\xef\xbb\xbf)?\s*(?:(?:<\?.*?\?>|<!--.*?-->)\s*)*"""  # (a BOM, a prolog)
                       rb"""<event\b((?:[^"'>]|"[^"]*"|'[^']*')*)>""", re.S)
_ATTRIBUTE = re.compile(rb"""([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CONTROL_TYPE = re.compile(r"t-x-c-t(?:-r)?|t-x-takp-[vqr]")
#: Why a stream in UTF-16 is closed: its bytes cannot be framed (``<`` and ``</event>`` are not the bytes
#: looked for, and its NULs look like keep-alives); TAK clients and servers stream UTF-8 (a datagram is one
#: message whatever its encoding, see ``datagram_messages``).
UTF16_ON_A_STREAM = ("UTF-16 on a TAK stream: a stream carries CoT XML in UTF-8 (or an ASCII-compatible "
                     "encoding) or TAK protobuf; send UTF-16 as UDP datagrams or on the Redis inbox")
#: The keep-alive pytak and TAK Server send (a deletion of the uid ``takPing``): a ping, not a message.
_TAK_PING = ("t-x-d-d", "takPing")


class Framer:
    """Splits one connection's bytes into messages (see the module docstring)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.error: str | None = None  # why framing stopped
        self.oversized = False  # it stopped at a message over the limit (else: a broken length prefix)
        self.refused = b""  # the start (at most REFUSED_KEPT bytes) of what it stopped at
        self._reset()

    def _reset(self) -> None:
        """The state of the XML scan of the message at the start of the buffer (resumable between feeds)."""
        self._phase = "prolog"  # prolog, tag (the root start tag), body, junk
        self._at = 0  # where the scan resumes
        self._quote = b""  # inside a quoted attribute value of the start tag: its quote
        self._closer = b""  # inside CDATA or a comment of the body: what ends it
        self._root = -1  # where the message's root <event> begins, once found

    @property
    def pending(self) -> bool:
        """Whether part of a message has been read (what ``flush`` would return)."""
        return bool(self.buffer.strip(_SKIPPED))

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by ``data`` (XML as sent, protobuf in mesh form), in order.

        After an error (``self.error`` set) nothing more is framed.
        """
        if self.error is not None:
            return []
        self.buffer += data
        found: list[bytes] = []
        while True:
            start = _skip(self.buffer)
            if _is_utf16(self.buffer[start:start + 2]):  # (refused as read: a UTF-16 BE "<" began with a NUL)
                self._fail(UTF16_ON_A_STREAM, oversized=False)
                return found
            if start:
                del self.buffer[:start]
                self._at = max(0, self._at - start)
            if not self.buffer:
                return found
            message = self._protobuf() if self.buffer[0] == STREAM_MAGIC else self._xml()
            if message is None:
                if self.error is None and len(self.buffer) > self.max_bytes:
                    self._fail(f"no complete message within the limit of {self.max_bytes} bytes")
                return found
            found.append(message)

    def flush(self) -> list[bytes]:
        """What is left when the connection ends, as messages (whole ones first, then the remainder as it is:
        ingest dead-letters it with the reason). The framer is empty afterwards."""
        if self.error is not None:
            return []
        found: list[bytes] = []
        while self.pending:
            cut = _RESYNC.search(self.buffer, self._root + 1 if self._root >= 0 else 1)  # (its prolog stays with it)
            if cut is None:
                found.append(bytes(self.buffer).strip(_SKIPPED))
                break
            junk = self._take(cut.start())
            if junk is None:
                return found
            found += [junk, *self.feed(b"")]
        self.buffer.clear()
        self._reset()
        return found

    def _take(self, size: int) -> bytes | None:
        """The first ``size`` bytes of the buffer as a message, the scan starting again after them; None (and
        ``error`` set) when that is over the limit."""
        if size > self.max_bytes:
            self._fail(f"message of {size} bytes (limit {self.max_bytes})")
            return None
        message = bytes(self.buffer[:size])
        del self.buffer[:size]
        self._reset()
        return message

    # --- XML ------------------------------------------------------------------------------------

    def _xml(self) -> bytes | None:
        buffer = self.buffer
        while True:
            if self._phase == "prolog":
                at = _SKIP_RUN.match(buffer, self._at).end()
                if at == 0 and buffer.startswith(_BOM):
                    at = len(_BOM)  # a UTF-8 byte-order mark may begin an XML document: it stays with it
                self._at = at
                rest = bytes(buffer[at:at + 9])
                if not rest:
                    return None
                if _EVENT_OPEN.match(buffer, at):
                    self._phase, self._at, self._root = "tag", at + 6, at
                    continue
                for opener, closer in ((b"<?", b"?>"), (b"<!--", b"-->")):
                    if rest.startswith(opener):
                        end = buffer.find(closer, at + len(opener))
                        if end < 0:
                            return None  # the declaration or comment goes on (bounded by max_bytes)
                        self._at = end + len(closer)
                        break
                else:
                    if len(rest) < 7 and any(p.startswith(rest) for p in _PROLOG_PREFIXES):
                        return None  # too little to tell yet
                    self._phase, self._at = "junk", max(1, at)
                continue
            if self._phase == "junk":
                cut = _RESYNC.search(buffer, self._at)
                if cut is None:
                    self._at = max(1, len(buffer) - 6)
                    return None
                return self._take(cut.start())
            if self._phase == "tag":
                while True:
                    stop = (re.compile(b"[<" + self._quote + b"]") if self._quote else _TAG_STOP).search(
                        buffer, self._at)
                    if stop is None:
                        self._at = len(buffer)
                        return None
                    if buffer[stop.start()] == ord("<"):  # no "<" in a start tag, quoted or not: cut off here
                        self._phase, self._at, self._quote = "junk", stop.start(), b""
                        break
                    if self._quote:
                        self._quote, self._at = b"", stop.end()
                        continue
                    if buffer[stop.start()] != ord(">"):
                        self._quote, self._at = bytes(buffer[stop.start():stop.end()]), stop.end()
                        continue
                    if buffer[stop.start() - 1] == ord("/"):
                        return self._take(stop.end())  # <event .../>: the whole message
                    self._phase, self._at = "body", stop.end()
                    break
                continue
            # body
            if self._closer:
                end = buffer.find(self._closer, self._at)
                if end < 0:
                    self._at = max(self._at, len(buffer) - len(self._closer) + 1)
                    return None
                self._closer, self._at = b"", end + len(self._closer)
            lt = buffer.find(b"<", self._at)
            if lt < 0:
                self._at = len(buffer)
                return None
            if _RESYNC.match(buffer, lt):  # a new message begins: this one was cut off before it
                self._phase = "junk"
                continue
            token = _BODY_TOKEN.match(buffer, lt)
            if token is None:
                tail = bytes(buffer[lt:lt + 9])
                if len(buffer) - lt < 9 and any(p.startswith(tail) for p in _BODY_PREFIXES) or \
                        tail.startswith(b"</event") and not buffer[lt + 7:].strip():
                    self._at = lt
                    return None  # a token may be cut here: look again when more arrives
                self._at = lt + 1
                continue
            if token.group(1):
                self._closer, self._at = b"]]>", token.end()
            elif token.group(2):
                self._closer, self._at = b"-->", token.end()
            elif token.group(3):
                self._closer, self._at = b"?>", token.end()  # a processing instruction
            else:
                return self._take(token.end())

    # --- protobuf ---------------------------------------------------------------------------------

    def _protobuf(self) -> bytes | None:
        length, used = 0, 0
        for used, byte in enumerate(self.buffer[1:1 + _VARINT_MAX_BYTES], start=1):
            length |= (byte & 0x7F) << (7 * (used - 1))
            if not byte & 0x80:
                break
        else:
            if len(self.buffer) > _VARINT_MAX_BYTES:
                self._fail("TAK protobuf length prefix is not a varint", oversized=False)
            return None
        if length > self.max_bytes:
            self._fail(f"TAK protobuf message of {length} bytes (limit {self.max_bytes})")
            return None
        size = 1 + used + length
        if len(self.buffer) < size:
            return None
        body = bytes(self.buffer[1 + used:size])
        if tak_message(body) is None:
            cut = _RESYNC.search(self.buffer, 1, size)
            if cut is not None:  # a frame that does not parse and holds the start of an XML event: split there
                return self._take(cut.start())
        del self.buffer[:size]
        self._reset()
        return MESH_HEADER + body

    def _fail(self, reason: str, oversized: bool = True) -> None:
        self.error = reason
        self.oversized = oversized
        self.refused = bytes(self.buffer[:REFUSED_KEPT])
        self.buffer.clear()


def _is_utf16(data: bytes | bytearray) -> bool:
    """Whether a message (its leading white space and NULs skipped) begins in UTF-16: a UTF-16 byte-order
    mark, or ``<`` followed by a NUL (what ``<`` is in UTF-16 LE, and in BE once the NUL before it is skipped)."""
    return data[:2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00")


def _skip(buffer: bytes | bytearray) -> int:
    """How many leading bytes are white space or NUL (never part of a message)."""
    return _SKIP_RUN.match(buffer).end()


def datagram_messages(data: bytes, max_bytes: int) -> list[bytes]:
    """The messages of one UDP datagram, framed like a stream's (``Framer``, then ``flush``): NULs and white
    space around an event are dropped, two events in one datagram are two messages, junk is its own. A
    protobuf mesh datagram (``0xBF 0x01 0xBF``) is one message as received; one in the streaming form (``0xBF``,
    varint length, message: what pytak sends to a unicast address with ``TAK_PROTO=1``) becomes mesh form. A
    datagram the framer refuses (a broken length prefix) is kept as received (ingest dead-letters it with the
    reason)."""
    if data.startswith(MESH_HEADER) or _is_utf16(data[_skip(data):]):
        return [data]  # (UTF-16: one message, which the decoder reads, BOM or not; its NULs are no keep-alives)
    framer = Framer(max_bytes)
    messages = framer.feed(data)
    messages += framer.flush()
    return messages if framer.error is None else [data]


def control_kind(message: bytes) -> str | None:
    """The CoT type of a ping or negotiation message (``t-x-c-t``, ``t-x-takp-q``, ...), else None.

    Only the ``type`` attribute of the message's root ``<event>`` start tag is looked at (after the
    prolog; never a CDATA section, a comment or another attribute's value); protobuf in mesh form: the
    ``cotEvent.type`` of the parsed message.
    """
    if message.startswith(MESH_HEADER):
        parsed = tak_message(message[len(MESH_HEADER):])
        event = parsed.cotEvent if parsed is not None and parsed.HasField("cotEvent") else None
        kind, uid = (event.type, event.uid) if event is not None else ("", "")
    else:
        root = _ROOT_TAG.match(message)
        attributes = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                      for m in _ATTRIBUTE.finditer(root.group(1))} if root else {}
        kind = attributes.get(b"type", b"").decode("utf-8", "replace")
        uid = attributes.get(b"uid", b"").decode("utf-8", "replace")
    if _CONTROL_TYPE.fullmatch(kind) or (kind, uid) == _TAK_PING:
        return kind
    return None


def _control_event(cot_type: str, uid: str, control: str, now: datetime) -> bytes:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    stale = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return (f'<?xml version="1.0" encoding="UTF-8"?><event version="2.0" uid="{uid}" type="{cot_type}" '
            f'time="{stamp}" start="{stamp}" stale="{stale}" how="m-g"><point lat="0.0" lon="0.0" hae="0.0" '
            f'ce="999999" le="999999"/><detail><TakControl>{control}</TakControl></detail></event>').encode()


def support_event(now: datetime) -> bytes:
    """What a TAK server sends on connect: it supports TAK Protocol version 1 (``t-x-takp-v``)."""
    return _control_event("t-x-takp-v", "protouid", '<TakProtocolSupport version="1"/>', now)


def response_event(now: datetime) -> bytes:
    """The answer to a client's request for TAK Protocol version 1 (``t-x-takp-r``, status true)."""
    return _control_event("t-x-takp-r", "protouid", '<TakResponse status="true"/>', now)
