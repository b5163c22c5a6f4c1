"""The envelope check every raw payload passes first: size, emptiness, text encoding.

Shared by alert and asset messages. JSON is UTF-8 (RFC 8259 section 8.1);
XML is left as bytes for the XML parser, which decodes it per its own
declaration and byte-order mark.
"""
from __future__ import annotations

from alerts.formats.errors import Rejected

#: The default payload size limit (1 MiB); ``CRISIS_MAX_PAYLOAD`` sets another.
DEFAULT_MAX_BYTES = 1_048_576


def payload_bytes(raw: bytes | str, max_bytes: int) -> bytes:
    """``raw`` as bytes, or ``Rejected`` if it is larger than ``max_bytes`` or empty."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > max_bytes:
        raise Rejected(f"payload too large: {len(raw)} bytes (limit {max_bytes})")
    if not raw.strip():
        raise Rejected("empty payload")
    return raw


def payload_text(raw: bytes | str, max_bytes: int) -> tuple[bytes, str]:
    """``(bytes, UTF-8 text)`` of a payload, or ``Rejected`` if too large, empty or not UTF-8."""
    raw = payload_bytes(raw, max_bytes)
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8 text (binary data at byte {exc.start})") from None
