"""JSON payloads -> ``Alert``: alert schema v1 (our own format), or one GeoJSON Feature of a known feed.

A JSON object whose ``type`` is ``Feature`` or ``FeatureCollection`` is
GeoJSON (no alert type has those names): a Feature is mapped to schema v1 by
``alerts.formats.geojson.alert_document`` (our export, the USGS feed) and
then validated like any alert; a FeatureCollection is refused (one message
is one alert). Nesting is limited to ``MAX_JSON_DEPTH`` levels so a hostile
document cannot exhaust the stack; a flat enough object is validated straight
from its bytes (pydantic's fastest path), and when one scan of those bytes
finds no bidirectional formatting character, written or escaped, ``Alert``
skips its walk that removes them (``alerts.core.text_rules.BIDI_FREE``).

Then every alert decoded here (our JSON, a GeoJSON Feature, the JSON of a
CoT ``detail/crisis``) is checked (``_checked``), each refusal naming the field:

- no extra field named in ``alerts.core.model.RESERVED_EXTRAS``: the names
  the CAP and CoT mappings set (``cap_status``, ``sender``, ``cot_type``...)
  and those ingest adds (``stale``...). Which format an alert came from is
  decided by its decoder, never by what a message says of itself; so an
  export of a CAP- or CoT-born alert is refused too when sent back in;
- at most ``MAX_REFERENCES`` references;
- ``expires``, when given, is a date-time with an offset from 1900 to 2200
  (``alerts.core.times``; kept normalised, a leap second as the next instant);
- no number in an extra field is NaN or infinite (JSON has neither; Python
  reads ``NaN`` and ``Infinity``, and they could not be stored faithfully).
"""
from __future__ import annotations

import json
import math
from collections import deque

from pydantic import ValidationError

from alerts.core.model import MAX_REFERENCES, RESERVED_EXTRAS, Alert
from alerts.core.text_rules import BIDI_FREE, json_may_hold_bidi_controls
from alerts.core.times import parse_instant
from alerts.formats.errors import Rejected, validation_reason
from alerts.formats.geojson import alert_document

MAX_JSON_DEPTH = 32
#: Values of ``type`` that make a JSON object GeoJSON rather than an alert.
GEOJSON_TYPES = ("Feature", "FeatureCollection")
#: The validation context of a payload without bidirectional formatting characters (``BIDI_FREE``).
_BIDI_FREE = {BIDI_FREE: True}


def decode_json_alert(raw: bytes, text: str) -> Alert:
    """One JSON payload (``raw`` and its UTF-8 ``text``, leading white space and BOM
    stripped) as an alert; raises ``Rejected``."""
    if text.startswith("{") and raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH:
        try:
            context = None if json_may_hold_bidi_controls(raw) else _BIDI_FREE  # skips the walk that finds none
            return _checked(Alert.model_validate_json(raw, context=context))
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
        alert = Alert.model_validate(document)
    except ValidationError as exc:
        raise Rejected(validation_reason(exc)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise Rejected(f"invalid alert: {exc}") from None
    return _checked(alert)


def _checked(alert: Alert) -> Alert:
    """``alert`` (its ``expires`` normalised) if it passes the checks of the module docstring; else ``Rejected``."""
    extra = alert.model_extra or {}
    reserved = sorted(RESERVED_EXTRAS & extra.keys()) if extra else []
    if reserved:
        raise Rejected(f"invalid alert: {', '.join(reserved)}: reserved (set only when a CAP or CoT message is "
                       "decoded, or by ingest); a JSON alert may not carry "
                       + ("it" if len(reserved) == 1 else "them"))
    if alert.references is not None and len(alert.references) > MAX_REFERENCES:
        raise Rejected(f"invalid alert: references: {len(alert.references)} given; at most {MAX_REFERENCES} "
                       "per message are accepted")
    problem = _non_finite(extra) if extra else None
    if problem:
        raise Rejected(f"invalid alert: {problem} is not a finite number (JSON has no NaN or Infinity)")
    if "expires" in extra:
        try:
            expires = parse_instant(extra["expires"], "expires")
        except ValueError as exc:
            raise Rejected(f"invalid alert: {exc}") from None
        alert = alert.model_copy(update={"expires": expires.isoformat()})
    return alert


def _non_finite(extra: dict) -> str | None:
    """The path (``score.values.2``) of the first NaN or infinite number in the extra fields, or None."""
    queue = deque(extra.items())
    while queue:
        path, value = queue.popleft()
        if isinstance(value, float) and not math.isfinite(value):
            return path
        if isinstance(value, dict):
            queue.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            queue.extend((f"{path}.{n}", item) for n, item in enumerate(value))
    return None


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
