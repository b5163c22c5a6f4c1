"""The envelope check every raw payload passes first: size, emptiness, and what kind of text it is.

Shared by alert and asset messages. A payload is recognised from its bytes:

- **XML** (``looks_like_xml``): after an optional byte-order mark and white
  space, ``<``, in UTF-8 or any ASCII-compatible encoding (ISO-8859-x,
  Windows-125x), or in UTF-16 LE/BE. It stays bytes: the XML parser decodes it
  per its byte-order mark and declaration (``alerts.formats.xmlsafe``).
- **JSON**, anything else: it must be UTF-8 (RFC 8259 section 8.1; a leading
  byte-order mark is ignored, as that section allows) without NUL bytes
  (``json_text``).
"""
from __future__ import annotations

import re

from alerts.formats.errors import Rejected

#: The default payload size limit (1 MiB); ``CRISIS_MAX_PAYLOAD`` sets another.
DEFAULT_MAX_BYTES = 1_048_576

# "<" after an optional byte-order mark and XML white space (XML 1.0 production S), per encoding.
_XML_START = re.compile(
    rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<"  # UTF-8 and ASCII-compatible encodings
    rb"|(?:\xff\xfe)?(?:[ \t\r\n]\x00)*<\x00"  # UTF-16 LE
    rb"|(?:\xfe\xff)?(?:\x00[ \t\r\n])*\x00<"  # UTF-16 BE
)
_WHITE_SPACE = "\ufeff \t\r\n"


def payload_bytes(raw: bytes | str, max_bytes: int) -> bytes:
    """``raw`` as bytes (a ``str`` as UTF-8), or ``Rejected`` if it is larger than ``max_bytes`` or empty."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > max_bytes:
        raise Rejected(f"payload too large: {len(raw)} bytes (limit {max_bytes})")
    if not raw.strip():
        raise Rejected("empty payload")
    return raw


def looks_like_xml(raw: bytes) -> bool:
    """Whether ``raw`` starts like an XML document (module docstring); nothing is decoded."""
    return _XML_START.match(raw) is not None


def json_text(raw: bytes) -> str:
    """The UTF-8 text of a JSON payload, byte-order mark and leading white space removed.

    ``Rejected`` if it is not UTF-8 (RFC 8259 section 8.1) or holds NUL bytes
    (never valid in JSON text, RFC 8259 sections 2 and 7).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8 text (binary data at byte {exc.start})") from None
    if "\x00" in text:
        raise Rejected("not text: contains NUL bytes")
    return text.lstrip(_WHITE_SPACE)
