"""One time format on every page: 24-hour UTC with the zone shown."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alerts.core.time_labels import epoch_label, utc_label


def test_tlb001_every_length_is_24_hour_utc_with_the_zone():
    at = datetime(2026, 11, 30, 15, 5, 9, tzinfo=timezone(timedelta(hours=1)))  # 14:05:09 UTC
    assert utc_label(at) == "2026-11-30 14:05 UTC"
    assert utc_label(at, date=False) == "14:05 UTC"
    assert utc_label(at, seconds=True) == "2026-11-30 14:05:09 UTC"
    assert utc_label(at, date=False, seconds=True) == "14:05:09 UTC"
    assert utc_label(datetime(2026, 11, 30, 23, 59)) == "2026-11-30 23:59 UTC"  # naive: read as UTC
    assert utc_label(datetime(2026, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-5)))) == "2026-01-02 08:04 UTC"
    assert epoch_label(at.timestamp()) == "14:05 UTC"
