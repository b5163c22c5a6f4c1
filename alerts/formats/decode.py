"""The one entry point from a raw payload (bytes off Redis) to an ``Alert``, or exactly why not.

A payload is recognised by its content (``alerts.formats.payload``):

- XML, recognised from its bytes (``<`` after an optional byte-order mark
  and white space, in UTF-8, an ASCII-compatible encoding or UTF-16): CAP 1.2,
  an EDXL-DE envelope or Cursor-on-Target (``alerts.formats.xml``), decoded
  per its byte-order mark and encoding declaration;
- TAK Protocol version 1 (protobuf, mesh header ``0xBF 0x01 0xBF``), as the
  TAK listener stores it: rebuilt as its CoT XML event
  (``alerts.formats.cot.tak``) and decoded as CoT;
- anything else is JSON, strictly UTF-8 (RFC 8259): our schema v1, or one
  GeoJSON Feature of a known feed (``alerts.formats.json_alert``).

What a TAK listener read is decoded by ``decode_tak_alert`` instead: CoT only.

A payload given as ``str`` is its UTF-8 encoding; an XML one is read as that
text, whatever its declaration says. Every refusal is a ``Rejected`` with a
reason; nothing else is raised for any input (a decoder that falls over is
caught and reported as an internal error).
"""
from __future__ import annotations

import logging

from alerts.core.model import Alert
from alerts.formats.cot.tak import cot_xml_of, is_tak_protobuf
from alerts.formats.errors import Rejected
from alerts.formats.json_alert import decode_json_alert
from alerts.formats.payload import DEFAULT_MAX_BYTES, json_text, looks_like_xml, payload_bytes
from alerts.formats.xml import decode_xml_alert

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_BYTES", "Rejected", "decode_alert", "decode_tak_alert"]


def decode_alert(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Alert:
    """Decode one payload of at most ``max_bytes`` bytes; raise ``Rejected`` with a reason for anything invalid."""
    data = payload_bytes(raw, max_bytes)
    if is_tak_protobuf(data):
        return decode_xml_alert(cot_xml_of(data))
    if looks_like_xml(data):
        return decode_xml_alert(data, encoding="utf-8" if isinstance(raw, str) else None)
    return decode_json_alert(data, json_text(data))


def decode_tak_alert(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Alert:
    """A payload a TAK listener or bridge read (its inbox entry is tagged with the feed): CoT only, XML or TAK
    protobuf, decoded by its type as a device's event. CAP, JSON, GeoJSON and our own ``detail/crisis``
    extension are refused (``Rejected``): they could name any sender, id or reference, and a TAK port is open
    to every device of the feed, so only what a TAK device sends is taken from it.
    """
    data = payload_bytes(raw, max_bytes)
    if is_tak_protobuf(data):
        return decode_xml_alert(cot_xml_of(data), cot_only=True)
    if looks_like_xml(data):
        return decode_xml_alert(data, encoding="utf-8" if isinstance(raw, str) else None, cot_only=True)
    raise Rejected("a TAK listener carries CoT only (XML or TAK protobuf); this payload is neither")
