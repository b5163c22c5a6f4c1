"""alerts.core.times: one reader for every instant a message states (RFC 3339, leap seconds, a sane range).

Leap-second values are the examples of RFC 3339 section 5.8 and the ones
public trackers reported (ethlo/itu#4, time-rs/time#404 and #406,
time-rs/time#674 with juspay/hyperswitch#4340).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, BeforeValidator, ValidationError

from alerts.core.times import EARLIEST, LATEST, RANGE_TEXT, Instant, check_range, is_leap_second, parse_instant

NEW_YEAR_2017 = datetime(2017, 1, 1, tzinfo=UTC)


def refused(value, field: str = "reported_at", **kwargs) -> str:
    """Parse ``value``, insist it is refused with a ValueError naming ``field``, and return the message."""
    with pytest.raises(ValueError) as info:
        parse_instant(value, field, **kwargs)
    message = str(info.value)
    assert field in message, message
    return message


# --- leap seconds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2016-12-31T23:59:60Z", NEW_YEAR_2017),  # case 07b
        ("2016-12-31T23:59:60+00:00", NEW_YEAR_2017),
        ("2016-12-31T23:59:60-00:00", NEW_YEAR_2017),  # CAP writes UTC as -00:00
        ("2017-01-01T00:59:60+01:00", NEW_YEAR_2017),  # Belgrade
        ("2017-01-01T05:29:60+05:30", NEW_YEAR_2017),  # a half-hour offset
        ("2016-12-31T18:59:60-05:00", NEW_YEAR_2017),
        ("1990-12-31T23:59:60Z", datetime(1991, 1, 1, tzinfo=UTC)),  # RFC 3339 section 5.8
        ("1990-12-31T15:59:60-08:00", datetime(1991, 1, 1, tzinfo=UTC)),  # RFC 3339 section 5.8
        ("2015-06-30T23:59:60Z", datetime(2015, 7, 1, tzinfo=UTC)),  # a June leap second
        ("2016-12-31t23:59:60z", NEW_YEAR_2017),  # lower case (RFC 3339 section 5.6 note)
        ("2016-12-31 23:59:60Z", NEW_YEAR_2017),  # space separator (same note)
        ("2016-12-31T23:59:60.000Z", NEW_YEAR_2017),  # ATAK's millisecond form
        ("2016-12-31T23:59:60.5Z", NEW_YEAR_2017 + timedelta(milliseconds=500)),
    ],
)
def test_tim001_a_leap_second_is_the_instant_one_second_later(text, instant):
    parsed = parse_instant(text, "reported_at")
    assert parsed == instant
    assert parsed.tzinfo is not None and parsed.utcoffset() == _offset_of(text)


def _offset_of(text: str) -> timedelta:
    if text.lower().endswith("z") or text.endswith("-00:00"):
        return timedelta(0)
    sign = -1 if text[-6] == "-" else 1
    return sign * timedelta(hours=int(text[-5:-3]), minutes=int(text[-2:]))


def test_tim002_the_leap_second_sorts_between_its_neighbours():
    before = parse_instant("2016-12-31T23:59:59.999Z")
    leap = parse_instant("2016-12-31T23:59:60Z")
    after = parse_instant("2017-01-01T00:00:00.001Z")
    assert before < leap < after


@pytest.mark.parametrize(
    "text",
    [
        "2023-12-11T11:31:60.000Z",  # generated mid-day by a formatter (time-rs/time#674)
        "2016-12-30T23:59:60Z",  # not the last day of the month
        "2016-12-31T23:59:60+01:00",  # 22:59:60 UTC
        "2016-12-31T23:58:60Z",
        "2016-02-28T23:59:60Z",  # 2016 is a leap year: the 29th is the last day
    ],
)
def test_tim003_second_60_that_is_no_leap_second_is_refused_saying_where_one_can_be(text):
    message = refused(text)
    assert "leap second" in message and "23:59:60 UTC" in message and text in message


def test_tim004_second_61_and_other_impossible_fields_are_refused_as_not_a_date_time():
    for text in ("2016-12-31T23:59:61Z", "2024-13-01T00:00:00Z", "2024-05-01T24:00:00Z", "2024-02-30T00:00:00Z"):
        assert "not a date-time" in refused(text)


def test_tim005_a_naive_leap_second_is_utc_where_the_format_says_so_and_refused_elsewhere():
    assert parse_instant("2016-12-31T23:59:60", "CoT 'time'", naive_is_utc=True) == NEW_YEAR_2017  # ethlo/itu#23
    assert "timezone" in refused("2016-12-31T23:59:60")


def test_tim006_is_leap_second_only_looks_at_the_second():
    assert is_leap_second("2016-12-31T23:59:60Z") and is_leap_second(" 2023-12-11T11:31:60.000Z ")
    assert is_leap_second("2016-12-31T15:59:60-08:00") and is_leap_second("20161231T235960Z")
    assert not is_leap_second("2016-12-31T23:59:59Z") and not is_leap_second("2016-12-31T23:60:00Z")
    assert not is_leap_second("60") and not is_leap_second("")


# --- offsets, fractions, naive values -------------------------------------------------


def test_tim010_z_plus_zero_and_minus_zero_are_the_same_instant_and_offsets_are_kept():
    z, plus, minus = (parse_instant(f"2024-05-01T10:15:00{s}") for s in ("Z", "+00:00", "-00:00"))
    assert z == plus == minus == datetime(2024, 5, 1, 10, 15, tzinfo=UTC)
    belgrade = parse_instant("2024-05-01T12:15:00+02:00")
    assert belgrade == z and belgrade.utcoffset() == timedelta(hours=2)


def test_tim011_fractional_seconds_are_kept_to_the_microsecond():
    assert parse_instant("2024-05-01T10:15:00.25+02:00") == datetime(2024, 5, 1, 8, 15, 0, 250_000, tzinfo=UTC)
    assert parse_instant("1985-04-12T23:20:50.52Z").microsecond == 520_000  # RFC 3339 section 5.8
    assert parse_instant("2024-05-01T10:15:00.123456789Z").microsecond == 123_456  # beyond 6 digits: cut


def test_tim012_naive_strings_and_datetimes_are_refused_unless_read_as_utc():
    assert "timezone" in refused("2024-05-01T10:15:00")
    assert "timezone" in refused(datetime(2024, 5, 1, 10, 15))
    assert parse_instant("2024-05-01T10:00:00.000", "CoT 'time'", naive_is_utc=True) == datetime(2024, 5, 1, 10,
                                                                                                 tzinfo=UTC)
    assert parse_instant(datetime(2024, 5, 1), naive_is_utc=True).tzinfo is UTC


def test_tim013_an_aware_datetime_passes_unchanged():
    value = datetime(2024, 5, 1, 10, 15, tzinfo=timezone(timedelta(hours=-3)))
    assert parse_instant(value) is value


# --- the range ------------------------------------------------------------------------


def test_tim020_the_bounds_are_included_and_one_microsecond_beyond_is_refused():
    assert (EARLIEST, LATEST) == (datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
    assert parse_instant("1900-01-01T00:00:00Z") == EARLIEST
    assert parse_instant("2200-01-01T00:00:00Z") == LATEST
    assert parse_instant("2199-12-31T23:59:60Z") == LATEST  # a leap second onto the bound
    for text in ("1899-12-31T23:59:59.999999Z", "2200-01-01T00:00:00.000001Z"):
        message = refused(text)
        assert RANGE_TEXT in message and text in message


def test_tim021_the_range_compares_instants_not_wall_clocks():
    assert parse_instant("1900-01-01T01:00:00+01:00") == EARLIEST
    assert "outside" in refused("1900-01-01T00:59:59+01:00")  # 23:59:59 UTC on 31 December 1899
    assert parse_instant("2199-12-31T20:00:00-04:00") == LATEST


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:60Z",
     "0001-01-01T00:00:60+01:00"],
    ids=["year-1-case-22", "year-1-utc", "year-9999-west", "year-9999-leap", "year-1-leap"],
)
def test_tim022_year_1_and_9999_are_refused_naming_the_field_and_the_range(text):
    # Near datetime.min/max an offset would overflow in UTC: still a ValueError with the reason.
    message = refused(text)
    assert "outside the accepted range" in message and RANGE_TEXT in message


def test_tim023_check_range_alone():
    assert check_range(EARLIEST) is EARLIEST
    with pytest.raises(ValueError, match="expires '2500-01-01T00:00:00Z' is outside"):
        check_range(datetime(2500, 1, 1, tzinfo=UTC), "expires", "2500-01-01T00:00:00Z")


# --- garbage --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yesterday", "", "   ", "2024-05-01T10:15:00+25:00", "1714556100", "T", "Z"])
def test_tim030_garbage_strings_are_refused_as_not_a_date_time(value):
    assert "not a date-time" in refused(value)


@pytest.mark.parametrize("value", [1714556100, 1714556100.5, None, True, ["2024-05-01T10:15:00Z"], {"t": 1}])
def test_tim031_values_that_are_not_strings_or_datetimes_are_refused_naming_the_type(value):
    message = refused(value)
    assert "must be a date-time string" in message and type(value).__name__ in message


def test_tim032_a_long_value_is_cut_in_the_reason():
    message = refused("x" * 10_000)
    assert len(message) < 300 and "..." in message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:6\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)?",
                                             fullmatch=True))
def test_tim033_any_string_is_an_in_range_aware_instant_or_a_value_error(text):
    try:
        parsed = parse_instant(text, "reported_at")
    except ValueError as exc:
        assert "reported_at" in str(exc)
        return
    assert parsed.tzinfo is not None and EARLIEST <= parsed <= LATEST


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                               timezone(timedelta(hours=-8))])))
def test_tim034_every_in_range_instant_reads_back_from_its_iso_form(value):
    assert parse_instant(value.isoformat()) == value


# --- as a pydantic validator ------------------------------------------------------------


class _Report(BaseModel):
    reported_at: Instant


class _Plain(BaseModel):
    reported_at: Annotated[datetime, BeforeValidator(parse_instant)]


def test_tim040_instant_normalises_leap_seconds_in_json_and_python_input():
    assert _Report.model_validate_json('{"reported_at": "2016-12-31T23:59:60Z"}').reported_at == NEW_YEAR_2017
    assert _Report.model_validate({"reported_at": "2016-12-31T23:59:60Z"}).reported_at == NEW_YEAR_2017
    assert _Report.model_validate({"reported_at": NEW_YEAR_2017}).reported_at == NEW_YEAR_2017


def test_tim041_instant_refusals_name_the_field_and_the_range():
    with pytest.raises(ValidationError) as info:
        _Report.model_validate_json('{"reported_at": "0001-01-01T00:00:00+01:00"}')
    error = info.value.errors()[0]
    assert error["loc"] == ("reported_at",)
    assert "reported_at '0001-01-01T00:00:00+01:00' is outside the accepted range" in error["msg"]
    assert RANGE_TEXT in error["msg"]


def test_tim042_parse_instant_itself_serves_as_a_before_validator():
    assert _Plain.model_validate_json('{"reported_at": "1990-12-31T15:59:60-08:00"}').reported_at == datetime(
        1991, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="timezone"):
        _Plain.model_validate({"reported_at": "2024-05-01T10:15:00"})
