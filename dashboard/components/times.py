"""An instant on a page: its UTC text (``alerts.core.time_labels``) in a ``<time>`` element that carries the
instant in ``data-utc``, so ``assets/crisis_time.js`` shows the viewer's local time on hover (``title``)."""
from __future__ import annotations

from datetime import datetime

from dash import html

from alerts.core.time_labels import as_utc, utc_label


def utc_time(at: datetime, *, date: bool = True, seconds: bool = False, **props) -> html.Time:
    """``<time datetime=ISO data-utc=ISO>2026-11-30 14:05 UTC</time>`` for ``at`` (``props`` passed on)."""
    iso = as_utc(at).isoformat()
    return html.Time(utc_label(at, date=date, seconds=seconds), dateTime=iso, className="utc-time",
                     **{"data-utc": iso}, **props)
