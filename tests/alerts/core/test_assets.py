"""The rules of asset times (alerts.core.assets): reports dated by the centre's clock, within a skew."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from alerts.core.assets import MAX_CLOCK_SKEW, AssetUpdate, apply_update, arrival_time, received
from tests.conftest import make_asset

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_ats001_a_report_up_to_the_skew_ahead_is_clamped_to_the_centres_clock():
    assert arrival_time(NOW - timedelta(hours=1), NOW) == NOW - timedelta(hours=1)
    assert arrival_time(NOW + timedelta(seconds=90), NOW) == NOW
    assert arrival_time(NOW + MAX_CLOCK_SKEW, NOW) == NOW
    east = datetime(2026, 11, 29, 13, 1, tzinfo=timezone(timedelta(hours=1)))  # 12:01Z
    assert arrival_time(east, NOW) == NOW


@pytest.mark.parametrize(
    ("at", "words"),
    [(NOW + MAX_CLOCK_SKEW + timedelta(seconds=1), "ahead of the centre's clock (at most 0:02:00 is accepted)"),
     (NOW + timedelta(days=1), "updated_at 2026-11-30T12:00:00+00:00 is 1 day, 0:00:00 ahead"),
     (datetime(1, 1, 1, tzinfo=UTC), "updated_at '0001-01-01T00:00:00+00:00' is outside the accepted range"),
     (datetime(2201, 1, 1, tzinfo=UTC), "is outside the accepted range 1900-01-01T00:00:00Z to 2200-01-01")],
)
def test_ats002_a_report_too_far_ahead_or_out_of_range_is_refused_naming_updated_at(at, words):
    with pytest.raises(ValueError) as info:
        arrival_time(at, NOW)
    assert words in str(info.value)


def test_ats003_last_write_wins_on_the_clamped_time():
    asset = make_asset("rs-1", 44.0, 20.0, updated_at=(NOW - timedelta(hours=1)).isoformat())
    fast = received(AssetUpdate(id="rs-1", position={"lat": 44.1, "lon": 20.1},
                                updated_at=NOW + timedelta(seconds=90)), NOW)
    assert fast.updated_at == NOW
    asset = apply_update(asset, fast, NOW)
    later = NOW + timedelta(seconds=40)
    right = received(AssetUpdate(id="rs-1", position={"lat": 44.2, "lon": 20.2},
                                 updated_at=NOW + timedelta(seconds=30)), later)
    moved = apply_update(asset, right, later)  # dated before the fast one as sent, after it as clamped
    assert moved is not None and moved.position.lat == 44.2
    assert received(AssetUpdate(id="rs-1"), NOW).updated_at is None
