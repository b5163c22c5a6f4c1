"""Instants in time as messages state them: parsed, leap seconds normalised, kept in a sane range.

One reader for every time a message carries (our JSON ``reported_at``, CAP
``sent``/``effective``/``onset``/``expires``, CoT ``time``/``start``/``stale``):

- **Syntax**: ISO 8601 date-times as ``datetime.fromisoformat`` reads them,
  which covers RFC 3339 section 5.6 (``2024-05-01T10:15:00Z``,
  ``2024-05-01T10:15:00.25+02:00``), including its lower-case ``t``/``z``
  and a space instead of ``T`` (its section 5.6 note). ``-00:00`` (RFC 3339
  section 4.3, offset unknown) is read as UTC.
- **Leap seconds** (RFC 3339 section 5.7, ``time-second`` may be ``60``): a
  ``:60`` second is accepted only where a leap second can be, the last second
  of a UTC month (ITU-R TF.460-6 section 2.1: ``23:59:60`` UTC, so
  ``15:59:60-08:00`` too), and it is normalised to the instant one second
  later, as POSIX does (IEEE Std 1003.1, "Seconds Since the Epoch"):
  ``2016-12-31T23:59:60Z`` becomes ``2017-01-01T00:00:00Z``, with the offset
  and any fraction kept (``23:59:60.5Z`` becomes ``00:00:00.5Z``). Python's
  ``datetime`` cannot hold a 61st second. A ``:60`` anywhere else (e.g.
  ``11:31:60Z``) is refused.
- **Range**: ``EARLIEST`` (1900-01-01T00:00:00Z) to ``LATEST``
  (2200-01-01T00:00:00Z), both included, compared as instants. A time outside
  is a wrong clock or a placeholder (year 1, 9999), and it would break
  every later export and sort, so it is refused naming the field and the range.
- **Offset**: an instant needs one. A naive value is refused, unless the
  format says it is UTC (CoT: ``naive_is_utc=True``).

``Instant`` is the pydantic field type built on it (``reported_at: Instant``).

Domain core: the standard library and pydantic only.
"""
from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator, ValidationInfo

from alerts.core.refusals import N_, Refused

#: The earliest instant accepted (included).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
#: The latest instant accepted (included).
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: The accepted range, as reasons name it.
RANGE_TEXT = "1900-01-01T00:00:00Z to 2200-01-01T00:00:00Z"

# A second of 60 ("...:60", "...:60.5"), before an optional offset: the leap second form.
_LEAP_SECOND = re.compile(r"^(?P<head>\d{4}-?\d{2}-?\d{2}[T ]\d{2}:?\d{2}:?)60(?P<tail>(?:[.,]\d+)?(?:Z|[+-].*)?)$")
_SHOWN = 80  # characters of a bad value quoted in a reason


def parse_instant(value: str | datetime, field: str = "time", *, naive_is_utc: bool = False) -> datetime:
    """``value`` as an aware ``datetime`` (its own offset kept; UTC-comparable).

    ``value`` is a date-time string (see the module docstring for the syntax,
    the leap second and the range) or a ``datetime``. ``field`` names the value
    in reasons (``"reported_at"``, ``"CAP <sent>"``). A naive value is refused,
    or read as UTC when ``naive_is_utc``. Raises ``Refused`` (a ValueError) whose message
    names ``field`` and says what is wrong, so the function serves as a pydantic
    ``BeforeValidator`` as it is (its one required argument is the value).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = _parse_text(value.strip(), field)
    else:
        raise Refused(N_("%(field)s must be a date-time string (RFC 3339), not %(type)s"),
                      {"field": field, "type": type(value).__name__})
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        if not naive_is_utc:
            raise Refused(N_("%(field)s has no timezone offset (RFC 3339 needs Z or an offset such as +01:00): "
                             "%(value)s"), {"field": field, "value": _quote(value)})
        parsed = parsed.replace(tzinfo=UTC)
    return check_range(parsed, field, value if isinstance(value, str) else None)


def check_range(instant: datetime, field: str = "time", shown: str | None = None) -> datetime:
    """``instant`` (aware) unchanged, or ``ValueError`` naming ``field`` if it is outside ``EARLIEST``..``LATEST``.

    The reason quotes ``shown`` (the value as sent) when given, else the instant.
    """
    if not EARLIEST <= instant <= LATEST:
        raise Refused(N_("%(field)s %(value)s is outside the accepted range %(earliest)s to %(latest)s"),
                      {"field": field, "value": _quote(shown or instant),
                       "earliest": EARLIEST.isoformat().replace("+00:00", "Z"),
                       "latest": LATEST.isoformat().replace("+00:00", "Z")})
    return instant


def is_leap_second(text: str) -> bool:
    """Whether the date-time string ``text`` has second 60 (a leap second, valid or not; nothing is checked)."""
    return _LEAP_SECOND.match(text.strip().upper()) is not None


def _validate_field(value: str | datetime, info: ValidationInfo) -> datetime:
    return parse_instant(value, info.field_name or "time")


#: A pydantic field type for an instant read by ``parse_instant`` (reasons name the field).
Instant = Annotated[AwareDatetime, BeforeValidator(_validate_field)]


def _parse_text(text: str, field: str) -> datetime:
    """A date-time string, leap second included (``Refused``, a ValueError, naming ``field``)."""
    upper = text.upper()  # RFC 3339 section 5.6 allows "t" and "z"
    leap = _LEAP_SECOND.match(upper)
    try:
        parsed = datetime.fromisoformat(f"{leap['head']}59{leap['tail']}" if leap else upper)
    except ValueError as exc:
        detail = "" if str(exc).startswith("Invalid isoformat") else f" ({exc})"
        raise Refused(N_("%(field)s is not a date-time (RFC 3339, e.g. 2024-05-01T10:15:00Z): "
                         "%(value)s%(detail)s"), {"field": field, "value": _quote(text), "detail": detail}) from None
    if leap:
        parsed = _after_leap_second(parsed, text, field)
    return parsed


def _after_leap_second(last_normal: datetime, text: str, field: str) -> datetime:
    """The instant after the leap second whose preceding second is ``last_normal`` (its ``:59``)."""
    aware = check_range(last_normal if last_normal.tzinfo else last_normal.replace(tzinfo=UTC), field, text)
    utc = aware.astimezone(UTC)
    month_end = calendar.monthrange(utc.year, utc.month)[1]
    if (utc.day, utc.hour, utc.minute, utc.second) != (month_end, 23, 59, 59):
        raise Refused(N_("%(field)s has second 60, which is only a leap second at 23:59:60 UTC on the last day "
                         "of a month (RFC 3339 section 5.7): %(value)s"), {"field": field, "value": _quote(text)})
    return last_normal + timedelta(seconds=1)


def _quote(value: object) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return repr(text[:_SHOWN] + ("..." if len(text) > _SHOWN else ""))
