"""The one entry point from a raw payload (bytes off Redis) to an ``Alert``, or exactly why not.

A payload is recognised by its content: ``<`` first means XML (CAP 1.2, an
EDXL-DE envelope, Cursor-on-Target: ``alerts.formats.xml``), ``{`` first means
our JSON schema v1 (``alerts.formats.json_alert``). Every refusal is a
``Rejected`` with a reason; nothing else is raised for any input (a decoder
that falls over is caught and reported as an internal error).
"""
from __future__ import annotations

import logging

from alerts.core.model import Alert
from alerts.formats.errors import Rejected
from alerts.formats.json_alert import decode_json_alert
from alerts.formats.payload import DEFAULT_MAX_BYTES, payload_text
from alerts.formats.xml import decode_xml_alert

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_BYTES", "Rejected", "decode_alert"]


def decode_alert(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Alert:
    """Decode one payload of at most ``max_bytes``; raise ``Rejected`` with a reason for anything invalid."""
    raw, text = payload_text(raw, max_bytes)
    if "\x00" in text:
        raise Rejected("not text: contains NUL bytes")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return decode_xml_alert(raw)
    return decode_json_alert(raw, stripped)
