"""Reading CAP 1.2 elements: the trimmed text of a child, of all children of a name, a date-time.

CAP date-times (CAP 1.2 section 3.3.2: ``sent``, ``effective``, ``onset``,
``expires``) are read by ``alerts.core.times.parse_instant``: the offset is
required, an RFC 3339 leap second is the instant after it, and times outside
1900-01-01..2200-01-01 (UTC) are refused.
"""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from alerts.core.times import is_leap_second, parse_instant
from alerts.formats.cap.validate import q
from alerts.formats.errors import Rejected

#: The CAP 1.2 elements whose value is a date-time (CAP 1.2 section 3.2).
DATETIME_ELEMENTS = ("sent", "effective", "onset", "expires")


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

    Returns an aware ``datetime`` with the message's offset; a leap second
    (``23:59:60`` UTC) becomes the instant after it (``alerts.core.times``).
    Raises ``Rejected`` naming the element ``what`` for a value that is not a
    date-time, has no offset, or lies outside 1900-01-01..2200-01-01 (UTC).
    """
    try:
        return parse_instant(value, f"CAP <{what}>")
    except ValueError as exc:
        raise Rejected(str(exc)) from None


def normalise_leap_seconds(root: etree._Element) -> None:
    """Rewrite in place every CAP date-time under ``root`` whose second is 60, as the instant after it.

    The CAP schema's ``xs:dateTime`` has no leap second (libxml2 refuses second
    60, as XML Schema 1.1 Part 2 section 3.3.7 does), while RFC 3339 section
    5.7 allows one at 23:59:60 UTC. A leap second is therefore normalised
    (``cap_datetime``) before the schema sees the message, e.g.
    ``2016-12-31T23:59:60-00:00`` becomes ``2017-01-01T00:00:00+00:00``. The
    raw payload is not changed. Raises ``Rejected`` for a second 60 that is no
    leap second (e.g. ``11:31:60``) or a time out of range.
    """
    for element in root.iter(*(q(name) for name in DATETIME_ELEMENTS)):
        text = text_of(element)
        if is_leap_second(text):
            element.text = cap_datetime(text, etree.QName(element).localname).isoformat()
