"""Reading the common parts of a Cursor-on-Target event: times, the point, GPS fix, ``opex``.

CoT 2.0 (MITRE, "Cursor-on-Target Message Router User's Guide"; the event
schema ``Event.xsd``): times are W3C XML Schema date-times in UTC (read by
``alerts.core.times.parse_instant``: a time without a zone is UTC, a leap
second is the instant after it, 1900-01-01..2200-01-01 only), ``point``
carries ``lat``/``lon`` (WGS84 degrees), ``hae``, ``ce`` and ``le`` (metres;
``9999999`` means unknown), and ``opex`` says operations (``o``), exercise
(``e``) or simulation (``s``). Every problem is a ``Rejected`` with a reason.
"""
from __future__ import annotations

import math
from datetime import datetime

from lxml import etree

from alerts.core.times import parse_instant
from alerts.formats.errors import Rejected
from alerts.formats.text import one_line

#: CoT's "unknown" value for hae, ce and le.
UNKNOWN_ERROR = 9_999_999.0
#: A point this close to 0,0 with an unknown circular error is a device without a fix.
NULL_ISLAND_DEGREES = 0.1


def event_uid(event: etree._Element) -> str:
    """The event's ``uid`` (stripped); ``Rejected`` if it has none."""
    value = (event.get("uid") or "").strip()
    if not value:
        raise Rejected("CoT event has no 'uid' attribute")
    return value


def cot_time(event: etree._Element, name: str, required: bool) -> datetime | None:
    """The event's ``name`` attribute (``time``, ``start``, ``stale``) as an aware datetime (UTC if unmarked).

    ``None`` when the attribute is absent and not ``required``. A leap second
    (``2016-12-31T23:59:60Z``) is the instant after it. Raises ``Rejected``
    naming the attribute when it is missing but required, is not a date-time,
    or lies outside 1900-01-01..2200-01-01 (UTC).
    """
    value = (event.get(name) or "").strip()
    if not value:
        if required:
            raise Rejected(f"CoT event has no '{name}' attribute")
        return None
    try:
        return parse_instant(value, f"CoT '{name}'", naive_is_utc=True)  # CoT times are UTC
    except ValueError as exc:
        raise Rejected(str(exc)) from None


def cot_times(event: etree._Element) -> tuple[datetime, datetime | None, datetime | None]:
    """The event's ``(time, start, stale)`` (``cot_time``): ``time`` required, ``start`` and ``stale`` None when
    absent; every one given is checked, so a ``start="yesterday"`` or a year 9999 is refused naming it."""
    return (cot_time(event, "time", required=True),  # type: ignore[return-value]
            cot_time(event, "start", required=False), cot_time(event, "stale", required=False))


def number(element: etree._Element, name: str, default: float | None = None) -> float | None:
    """A finite number attribute of ``element``, or ``default`` when absent or blank."""
    value = element.get(name)
    if value is None or not value.strip():
        return default
    try:
        parsed = float(value)
    except ValueError:
        raise Rejected(f"CoT point '{name}' is not a number: {one_line(value, 80)!r}") from None
    if not math.isfinite(parsed):
        raise Rejected(f"CoT point '{name}' is not a finite number: {one_line(value, 80)!r}")
    return parsed


def point(event: etree._Element) -> tuple[float, float, float]:
    """``(lat, lon, ce)`` of the event's ``<point>`` (degrees, degrees, metres; ce unknown: 9999999)."""
    element = event.find("point")
    if element is None:
        raise Rejected("CoT event has no <point>")
    lat = number(element, "lat")
    lon = number(element, "lon")
    if lat is None or lon is None:
        raise Rejected("CoT <point> needs both 'lat' and 'lon'")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Rejected(f"CoT point {lat},{lon} is out of range (lat -90..90, lon -180..180)")
    ce = number(element, "ce", UNKNOWN_ERROR)
    return lat, lon, ce  # type: ignore[return-value]


def has_fix(lat: float, lon: float, ce: float) -> bool:
    """Whether a point is a real GPS fix (not 0,0, nor near it with an unknown error)."""
    if lat == 0 and lon == 0:
        return False
    near_null_island = abs(lat) < NULL_ISLAND_DEGREES and abs(lon) < NULL_ISLAND_DEGREES
    return not (near_null_island and ce >= UNKNOWN_ERROR)


def is_exercise(event: etree._Element, detail: etree._Element | None) -> bool:
    """CoT ``opex`` (o = operations, e = exercise, s = simulation) on the event or in detail."""
    opex = (event.get("opex") or "").strip().lower()
    if opex:
        return opex[0] in ("e", "s")
    element = detail.find("opex") if detail is not None else None
    if element is None:
        return False
    values = [(element.text or "").strip().lower()] + [v.strip().lower() for v in element.attrib.values()]
    return not any(v.startswith("o") for v in values if v)
