"""Turn one raw payload (bytes off Redis) into an ``Alert``, or say exactly why not.

Every refusal is a ``Rejected`` with a reason a person can read; ingest puts the
raw payload and that reason in the dead-letter stream. Nothing here raises
anything else for any input: that is what keeps ingest alive on junk.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from alerts.model import Alert
from alerts.xmlsafe import UnsafeXML, parse_xml

DEFAULT_MAX_BYTES = 1_048_576
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Rejected(Exception):
    """A payload that is not a valid alert, with the reason."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def format_validation_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:8]:
        where = ".".join(str(p) for p in item["loc"]) or "alert"
        parts.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - 8
    if more > 0:
        parts.append(f"... and {more} more")
    return "invalid alert: " + "; ".join(parts)


def payload_text(raw: bytes | str, max_bytes: int) -> tuple[bytes, str]:
    """A raw payload as (bytes, UTF-8 text), or ``Rejected`` if too large, empty or binary."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > max_bytes:
        raise Rejected(f"payload too large: {len(raw)} bytes (limit {max_bytes})")
    if not raw.strip():
        raise Rejected("empty payload")
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(f"not UTF-8 text (binary data at byte {exc.start})") from None


def decode_alert(raw: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Alert:
    """Decode one payload; raise ``Rejected`` with a reason for anything invalid."""
    raw, text = payload_text(raw, max_bytes)
    if "\x00" in text:
        raise Rejected("not text: contains NUL bytes")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return _decode_xml(raw)
    if stripped.startswith("{") and raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH:
        # The fast path: a flat enough object is validated straight from its bytes.
        try:
            return Alert.model_validate_json(raw)
        except ValidationError as exc:
            if exc.errors()[0]["type"] != "json_invalid":
                raise Rejected(format_validation_error(exc)) from None
    try:
        document = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Rejected(f"not JSON: {exc}") from None
    return decode_alert_document(document)


def decode_alert_document(document: object) -> Alert:
    """Validate an already-parsed JSON document as alert schema v1."""
    if not isinstance(document, dict):
        raise Rejected(f"not a JSON object: got {type(document).__name__}")
    if _depth(document) > MAX_JSON_DEPTH:
        raise Rejected(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    try:
        return Alert.model_validate(document)
    except ValidationError as exc:
        raise Rejected(format_validation_error(exc)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise Rejected(f"invalid alert: {exc}") from None


def _depth(document: object) -> int:
    """Nesting depth of a parsed JSON document, without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def parse_xml_payload(raw: bytes):
    """The root element of an XML payload, parsed safely; ``Rejected`` for hostile or broken XML."""
    try:
        return parse_xml(raw)
    except UnsafeXML as exc:
        raise Rejected(f"hostile XML refused: {exc}") from None
    except ValueError as exc:
        raise Rejected(f"XML not well-formed: {exc}") from None


def _decode_xml(raw: bytes) -> Alert:
    root = parse_xml_payload(raw)
    from alerts import xml_formats  # XML alert formats (CAP, CoT) live there

    return xml_formats.decode_xml_alert(root)
