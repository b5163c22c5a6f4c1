"""JSON payloads -> ``Alert``: alert schema v1 (our own format), or one GeoJSON Feature of a known feed.

A JSON object whose ``type`` is ``Feature`` or ``FeatureCollection`` is
GeoJSON (no alert type has those names): a Feature is mapped to schema v1 by
``alerts.formats.geojson.alert_document`` (our export, the USGS feed) and
then validated like any alert; a FeatureCollection is refused (one message
is one alert). Nesting is limited to ``MAX_JSON_DEPTH`` levels so a hostile
document cannot exhaust the stack; a flat enough object is validated straight
from its bytes (pydantic's fastest path).
"""
from __future__ import annotations

import json

from pydantic import ValidationError

from alerts.core.model import Alert
from alerts.formats.errors import Rejected, validation_reason
from alerts.formats.geojson import alert_document

MAX_JSON_DEPTH = 32
#: Values of ``type`` that make a JSON object GeoJSON rather than an alert.
GEOJSON_TYPES = ("Feature", "FeatureCollection")


def decode_json_alert(raw: bytes, text: str) -> Alert:
    """One JSON payload (``raw`` and its UTF-8 ``text``, leading white space and BOM
    stripped) as an alert; raises ``Rejected``."""
    if text.startswith("{") and raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH:
        try:
            return Alert.model_validate_json(raw)
        except ValidationError as exc:
            if exc.errors()[0]["type"] != "json_invalid" and not _geojson(exc):
                raise Rejected(validation_reason(exc)) from None
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Rejected(f"not JSON: {exc}") from None
    if isinstance(document, dict) and document.get("type") in GEOJSON_TYPES:
        return decode_feature(document)
    return decode_alert_document(document)


def decode_feature(document: dict) -> Alert:
    """One GeoJSON Feature (parsed) as an alert, via ``alert_document``; ``Rejected`` naming the mapping used."""
    if json_depth(document) > MAX_JSON_DEPTH:
        raise Rejected(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    which, mapped = alert_document(document)
    try:
        return decode_alert_document(mapped)
    except Rejected as exc:
        raise Rejected(f"GeoJSON Feature ({which}): {exc.reason}") from None


def _geojson(error: ValidationError) -> bool:
    """Whether a validation error comes from a GeoJSON object (``type`` Feature or FeatureCollection)."""
    return any(item["loc"] == ("type",) and item.get("input") in GEOJSON_TYPES for item in error.errors())


def decode_alert_document(document: object) -> Alert:
    """Validate an already-parsed JSON document as alert schema v1; raises ``Rejected``."""
    if not isinstance(document, dict):
        raise Rejected(f"not a JSON object: got {type(document).__name__}")
    if json_depth(document) > MAX_JSON_DEPTH:
        raise Rejected(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    try:
        return Alert.model_validate(document)
    except ValidationError as exc:
        raise Rejected(validation_reason(exc)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise Rejected(f"invalid alert: {exc}") from None


def json_depth(document: object) -> int:
    """Nesting depth of a parsed JSON document (1 for a flat object), without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest
