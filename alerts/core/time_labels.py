"""How every page writes an instant for people: 24-hour UTC with the zone shown.

One format, in three lengths: ``utc_label(at)`` is ``2026-11-30 14:05 UTC``,
``utc_label(at, date=False)`` is ``14:05 UTC``, and ``seconds=True`` adds the
seconds (``14:05:09 UTC``) where they matter (an exercise's inject clock). A
naive ``datetime`` is taken as UTC; an aware one is converted to UTC first.

The browser writes the instants it makes itself (the live map's status chip)
with the same format (``assets/crisis_time.js``, ``crisisTime.label``), and
shows the viewer's local time on hover (``title``) for every element that
carries the instant in ``data-utc`` (``dashboard.components.times.utc_time``).

Domain core: the standard library only.
"""
from __future__ import annotations

from datetime import UTC, datetime

#: ``strftime`` patterns of the three lengths.
DATE_TIME = "%Y-%m-%d %H:%M UTC"
TIME = "%H:%M UTC"
TIME_SECONDS = "%H:%M:%S UTC"


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC (a naive value is read as UTC already)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def utc_label(at: datetime, *, date: bool = True, seconds: bool = False) -> str:
    """``at`` as people read it on every page: ``2026-11-30 14:05 UTC`` (``date=False``: ``14:05 UTC``;
    ``seconds=True``: with the seconds, ``2026-11-30 14:05:09 UTC``)."""
    pattern = (DATE_TIME.replace("%H:%M", "%H:%M:%S") if seconds else DATE_TIME) if date else \
        (TIME_SECONDS if seconds else TIME)
    return as_utc(at).strftime(pattern)


def epoch_label(seconds_since_epoch: float, *, date: bool = False) -> str:
    """``utc_label`` of an epoch time in seconds (``14:05 UTC`` by default)."""
    return utc_label(datetime.fromtimestamp(seconds_since_epoch, UTC), date=date)
