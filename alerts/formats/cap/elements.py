"""Reading CAP 1.2 elements: the trimmed text of a child, of all children of a name, a date-time."""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from alerts.formats.cap.validate import q
from alerts.formats.errors import Rejected
from alerts.formats.text import one_line


def text_of(element: etree._Element | None) -> str:
    """The element's text, stripped ("" for no element or no text)."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def child(parent: etree._Element, name: str) -> str:
    """The text of ``parent``'s first CAP child ``name``."""
    return text_of(parent.find(q(name)))


def children(parent: etree._Element, name: str) -> list[str]:
    """The texts of all of ``parent``'s CAP children ``name``, in order."""
    return [text_of(e) for e in parent.findall(q(name))]


def cap_datetime(value: str, what: str) -> datetime:
    """A CAP date-time (``2024-05-01T12:00:00+02:00``; CAP 1.2 section 3.3.2 requires the offset).

    Raises ``Rejected`` naming the element ``what``.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"CAP <{what}> is not a date-time: {one_line(value, 80)!r}") from None
    if parsed.tzinfo is None:
        raise Rejected(f"CAP <{what}> has no time zone: {one_line(value, 80)!r}")
    return parsed
