"""Alert schema v1 as JSON (our own format): bytes or a parsed document -> ``Alert``.

Nesting is limited to ``MAX_JSON_DEPTH`` levels so a hostile document cannot
exhaust the stack; a flat enough object is validated straight from its bytes
(pydantic's fastest path).
"""
from __future__ import annotations

import json

from pydantic import ValidationError

from alerts.core.model import Alert
from alerts.formats.errors import Rejected, validation_reason

MAX_JSON_DEPTH = 32


def decode_json_alert(raw: bytes, text: str) -> Alert:
    """One JSON payload (``raw`` and its UTF-8 ``text``, leading white space and BOM
    stripped) as an alert; raises ``Rejected``."""
    if text.startswith("{") and raw.count(b"{") + raw.count(b"[") <= MAX_JSON_DEPTH:
        try:
            return Alert.model_validate_json(raw)
        except ValidationError as exc:
            if exc.errors()[0]["type"] != "json_invalid":
                raise Rejected(validation_reason(exc)) from None
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise Rejected(f"not JSON: {exc}") from None
    return decode_alert_document(document)


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
