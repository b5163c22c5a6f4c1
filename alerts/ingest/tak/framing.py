"""Framing of a TAK byte stream into whole messages, and the few control messages a listener answers itself.

A TAK stream (TCP or TLS) carries, one after another:

- **XML CoT** (TAK Protocol "version 0"): each message runs to the first
  ``</event>``; an XML declaration before it and white space (or NUL bytes,
  which some clients send as keep-alives) between messages are allowed. A
  message is whatever lies between two delimiters, so a stray prefix stays
  with the next event and ingest dead-letters it with the parser's reason.
- **TAK Protocol version 1, streaming** (after the negotiation a client may
  start, see ``support_event``): ``0xBF``, the message length as a protobuf
  varint, one serialised ``TakMessage``. Each one is handed on in mesh form
  (``alerts.formats.cot.tak.MESH_HEADER`` + the message), which the ingest
  decoder recognises.

A stream may switch from XML to protobuf at a message boundary (that is what
negotiation does); the framer looks at the first byte of every message.
Nothing else is parsed: the content is ingest's job. ``Framer.feed`` takes
chunks cut anywhere and returns the messages completed so far; a message over
``max_bytes`` (or a broken length prefix) sets ``Framer.error``, after which
the connection must be closed (its framing is lost).

A UDP datagram is one message (``datagram_messages``). Control messages (``control_kind``), matched on the bytes of the type
attribute only: pings (``t-x-c-t``, ``t-x-c-t-r``) and protocol negotiation
(``t-x-takp-*``). The listener counts them and does not store them; a
negotiation request (``t-x-takp-q``) is answered with ``response_event``.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from alerts.formats.cot.tak import MESH_HEADER

STREAM_MAGIC = 0xBF
_END = b"</event>"
_SKIPPED = b" \t\r\n\x00"
_VARINT_MAX_BYTES = 10
_XML_CONTROL = re.compile(rb"""<event\b[^>]*?\stype\s*=\s*["'](t-x-c-t(?:-r)?|t-x-takp-[vqr])["']""")
#: CotEvent.type (field 1, wire type 2) of a TakMessage's cotEvent (field 2), in the first bytes.
_PROTO_CONTROL = re.compile(rb"\x0a[\x07-\x0b](t-x-c-t(?:-r)?|t-x-takp-[vqr])(?![\w-])")


class Framer:
    """Splits one connection's bytes into messages (see the module docstring)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.error: str | None = None  # why framing stopped
        self.oversized = False  # it stopped at a message over the limit (else: a broken length prefix)
        self._scanned = 0  # bytes of the buffer already searched for the XML delimiter

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
            if start:
                del self.buffer[:start]
                self._scanned = max(0, self._scanned - start)
            if not self.buffer:
                return found
            message = self._protobuf() if self.buffer[0] == STREAM_MAGIC else self._xml()
            if message is None:
                return found
            found.append(message)

    def _xml(self) -> bytes | None:
        end = self.buffer.find(_END, max(0, self._scanned - len(_END) + 1))
        if end < 0:
            self._scanned = len(self.buffer)
            if len(self.buffer) > self.max_bytes:
                self._fail(f"no </event> within the limit of {self.max_bytes} bytes")
            return None
        size = end + len(_END)
        if size > self.max_bytes:
            self._fail(f"XML message of {size} bytes (limit {self.max_bytes})")
            return None
        message = bytes(self.buffer[:size])
        del self.buffer[:size]
        self._scanned = 0
        return message

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
        message = MESH_HEADER + bytes(self.buffer[1 + used:size])
        del self.buffer[:size]
        return message

    def _fail(self, reason: str, oversized: bool = True) -> None:
        self.error = reason
        self.oversized = oversized
        self.buffer.clear()


def _skip(buffer: bytearray) -> int:
    """How many leading bytes are white space or NUL (never part of a message)."""
    count = 0
    while count < len(buffer) and buffer[count] in _SKIPPED:
        count += 1
    return count


def datagram_messages(data: bytes, max_bytes: int) -> list[bytes]:
    """The messages of one UDP datagram: XML or protobuf mesh as received; a datagram in the streaming form
    (``0xBF``, varint length, message: what pytak sends to a unicast address with ``TAK_PROTO=1``) in mesh
    form. One whose streaming frame is broken is kept as received (ingest dead-letters it with the reason)."""
    if not data.startswith(bytes([STREAM_MAGIC])) or data.startswith(MESH_HEADER):
        return [data]
    framer = Framer(max_bytes)
    messages = framer.feed(data)
    return messages if messages and framer.error is None and not framer.buffer else [data]


def control_kind(message: bytes) -> str | None:
    """The CoT type of a ping or negotiation message (``t-x-c-t``, ``t-x-takp-q``, ...), else None.

    Only the type attribute's bytes are looked at (XML: the ``<event>`` start
    tag; protobuf in mesh form: the start of the serialised event).
    """
    if message.startswith(MESH_HEADER):
        found = _PROTO_CONTROL.search(message, len(MESH_HEADER), len(MESH_HEADER) + 96)
    else:
        found = _XML_CONTROL.search(message, 0, 2048)
    return found.group(1).decode() if found else None


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
