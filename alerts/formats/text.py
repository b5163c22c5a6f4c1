"""Cleaning text taken from a message: one-line fields, free text, reasons.

XML 1.0 allows no C0 control characters but tab, newline and carriage return;
they are replaced (one-line fields) or dropped (free text) so nothing odd
reaches a page, an export or a log. Over-long text is cut with an ellipsis.
"""
from __future__ import annotations

import re

_BAD_TEXT_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int) -> str:
    """``text`` on one line: control characters and runs of white space become one space; at most ``limit`` characters."""
    return _cut(" ".join(_BAD_TEXT_CHARS.sub(" ", text).split()), limit)


def free_text(text: str, limit: int) -> str:
    """``text`` with control characters other than tab and newlines removed, stripped; at most ``limit`` characters."""
    return _cut(_BAD_TEXT_CHARS.sub("", text).strip(), limit)


#: Characters XML 1.0 does not allow (section 2.2 "Characters"): C0 controls but tab, newline and
#: carriage return; surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 does not allow replaced by U+FFFD, so any stored value
    can be written into an XML export (lxml refuses such characters outright)."""
    return _NOT_XML.sub("\ufffd", text)
