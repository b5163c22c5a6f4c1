"""What the text of an alert may hold: the rules every format meets through the model (``alerts.core.model``).

- One-line fields (ids, titles, sources, markings) hold no control characters (C0 and DEL): refused.
- Free text (descriptions) keeps newlines and tabs, and refuses other control characters.
- Explicit bidirectional formatting characters (Unicode UAX #9) are removed everywhere (``no_bidi_controls``).

Domain core: the standard library only.
"""
from __future__ import annotations

import re
from typing import Any

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
#: The explicit directional formatting characters of Unicode UAX #9 "Unicode Bidirectional Algorithm"
#: (section 2, table 1): the embeddings LRE, RLE (U+202A, U+202B), PDF (U+202C), the overrides LRO, RLO
#: (U+202D, U+202E) and the isolates LRI, RLI, FSI, PDI (U+2066-U+2069). Not the implicit marks LRM, RLM
#: (U+200E, U+200F) or ALM (U+061C), which only set a direction and cannot reorder text.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: The same characters as a JSON text's bytes can hold them: UTF-8 (E2 80 AA-AE, E2 81 A6-A9) or a ``\u``
#: escape (RFC 8259 section 7; hex digits in either case). A ``\\u202e`` (an escaped backslash) matches too.
_BIDI_IN_JSON = re.compile(rb"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\\u20(?:2[a-eA-E]|6[6-9])")
#: A validation context key (``Alert.model_validate_json(raw, context={BIDI_FREE: True})``): the caller checked
#: that no string or key of the input holds a bidirectional formatting character (``json_may_hold_bidi_controls``),
#: so ``alerts.core.model.Alert`` skips the walk that removes them.
BIDI_FREE = "bidi_free"


def no_control_chars(value: str) -> str:
    """``value`` unchanged, or ValueError if it holds control characters (for one-line fields)."""
    if _CONTROL_CHARS.search(value):
        raise ValueError("contains control characters")
    return value


def no_bidi_controls(value: Any) -> Any:
    """``value`` (a string, or a list or object of them, nested) with every explicit bidirectional
    formatting character (``_BIDI_CONTROLS``, Unicode UAX #9 section 2) removed from its strings and from
    its objects' keys (when two keys become one, the first is kept); anything else unchanged.

    Those characters reorder the text displayed after them, so a headline can read differently on screen
    from what it says (``Ωmega\\u202eRTL\\u202c`` shows as "ΩmegaLTR"): the class of CVE-2021-42574
    "Trojan Source". They are removed rather than refused, like the control characters the format
    mappings drop (``alerts.formats.text``): the text stays readable in its logical order, right-to-left
    scripts still display by the implicit algorithm and the marks LRM/RLM/ALM are kept, and a record
    stored before this rule reads back cleaned instead of failing to load."""
    if isinstance(value, str):
        return value if value.isascii() else _BIDI_CONTROLS.sub("", value)
    if isinstance(value, list):
        return [no_bidi_controls(item) for item in value]
    if isinstance(value, dict):
        cleaned: dict = {}
        for key, item in value.items():
            cleaned.setdefault(no_bidi_controls(key), no_bidi_controls(item))
        return cleaned
    return value


def json_may_hold_bidi_controls(raw: bytes) -> bool:
    """Whether the UTF-8 JSON text ``raw`` may hold a bidirectional formatting character (``_BIDI_CONTROLS``) in
    any string or key, written as such or escaped; False means none of its strings holds one, so
    ``no_bidi_controls`` would change nothing in the parsed document (one scan of the bytes instead of a walk).
    The bytes every form starts with are looked for first (a plain substring search): the pattern runs only
    when one is there."""
    if b"\xe2\x80" not in raw and b"\xe2\x81" not in raw and b"\\u" not in raw:
        return False
    return _BIDI_IN_JSON.search(raw) is not None


def clean_text(value: str) -> str:
    """Free text: newlines and tabs kept; ValueError for any other control character."""
    if _CONTROL_CHARS.search(value.replace("\n", "").replace("\t", "").replace("\r", "")):
        raise ValueError("contains control characters")
    return value
