"""An instant on a page carries its UTC text and the instant itself, for the local time on hover."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dashboard.components.times import utc_time


def test_tim001_a_time_element_with_the_utc_text_and_the_instant():
    element = utc_time(datetime(2026, 11, 30, 15, 5, tzinfo=timezone(timedelta(hours=1))), id="t")
    assert element.children == "2026-11-30 14:05 UTC"
    assert element.dateTime == "2026-11-30T14:05:00+00:00"
    assert getattr(element, "data-utc") == "2026-11-30T14:05:00+00:00" and element.id == "t"
