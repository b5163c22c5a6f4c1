"""Real-world feeds: times as producers write them (leap seconds, impossible years) and GeoJSON features.

Cases 07b, 08 and 22 of ``tests/data/cases``, and a real excerpt of the USGS
"all earthquakes, past month" feed holding an event whose magnitude was not
known yet (``usgs_all_month_2018-09-22_excerpt.geojson``).
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from alerts.core.model import Alert, Placement, StoredAlert
from alerts.formats.decode import Rejected, decode_alert
from alerts.formats.geojson import feature, split_payloads
from tests.conftest import DATA, make_alert, payload

CASES = DATA / "cases"
NEW_YEAR_2017 = datetime(2017, 1, 1, tzinfo=UTC)
RANGE = "1900-01-01T00:00:00Z to 2200-01-01T00:00:00Z"
CAP_06B = (CASES / "06b_cap-iso-8859-2.xml").read_bytes().decode("iso-8859-2")


def rejected(raw: bytes | str) -> str:
    with pytest.raises(Rejected) as info:
        decode_alert(raw)
    return info.value.reason


def cap(sent: str = "2026-11-29T14:30:00+01:00", expires: str | None = None) -> bytes:
    """Case 06b (a CAP 1.2 alert) with another ``sent`` and, optionally, an ``expires``."""
    text = CAP_06B.replace("<sent>2026-11-29T14:30:00+01:00</sent>", f"<sent>{sent}</sent>")
    if expires is not None:
        text = text.replace("<headline>", f"<expires>{expires}</expires><headline>")
    return text.encode("iso-8859-2")


def cot(time: str, stale: str = "2017-01-01T00:10:00.000Z") -> bytes:
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>"
        f"<event version='2.0' uid='ANDROID-t-9-1-1' type='b-a-o-tbl' time='{time}' start='{time}' stale='{stale}' "
        "how='h-e'><point lat='44.81' lon='20.46' hae='100' ce='10' le='10'/>"
        "<detail><contact callsign='Bravo-2'/><remarks>help</remarks></detail></event>"
    ).encode()


# --- times: JSON reported_at (through alert schema v1) -------------------------------------


def test_fee001_case_07b_json_leap_second_is_the_next_instant():
    alert = decode_alert((CASES / "07b_json-reported-at-leap-second.json").read_bytes())
    assert alert.reported_at == NEW_YEAR_2017 and alert.reported_at.utcoffset().total_seconds() == 0
    assert decode_alert(payload(make_alert(reported_at="1990-12-31T15:59:60-08:00"))).reported_at == datetime(
        1991, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("reported_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z", "1899-12-31T23:59:59Z"])
def test_fee002_case_22_reported_at_out_of_range_is_refused_naming_field_and_range(reported_at):
    raw = (CASES / "22_json-reported-at-year-1.json").read_text(encoding="utf-8")
    reason = rejected(raw.replace("0001-01-01T00:00:00+01:00", reported_at))
    assert reason.startswith("invalid alert: reported_at:") and RANGE in reason and reported_at in reason


def test_fee003_json_second_60_outside_a_leap_second_is_refused_saying_why():
    reason = rejected(payload(make_alert(reported_at="2023-12-11T11:31:60.000Z")))
    assert "reported_at" in reason and "leap second at 23:59:60 UTC" in reason


# --- times: CAP and CoT ----------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["2016-12-31T23:59:60-00:00", "2017-01-01T00:59:60+01:00"])
def test_fee010_cap_leap_second_sent_and_expires_are_accepted_normalised(sent):
    alert = decode_alert(cap(sent=sent, expires="2016-12-31T23:59:60-00:00"))
    assert alert.reported_at == NEW_YEAR_2017
    assert datetime.fromisoformat(alert.model_extra["expires"]) == NEW_YEAR_2017


@pytest.mark.parametrize(
    ("sent", "expires", "words"),
    [
        ("2023-12-11T11:31:60+00:00", None, "CAP <sent> has second 60, which is only a leap second"),
        ("0001-01-01T00:00:00+01:00", None,
         f"CAP <sent> '0001-01-01T00:00:00+01:00' is outside the accepted range {RANGE}"),
        ("2026-11-29T14:30:00+01:00", "2500-01-01T00:00:00-00:00",
         "CAP <expires> '2500-01-01T00:00:00-00:00' is outside"),
        ("2026-11-29T14:30:00+01:00", "2016-12-31T23:59:60+05:00", "CAP <expires> has second 60"),
    ],
)
def test_fee011_cap_times_that_cannot_be_are_refused_naming_the_element(sent, expires, words):
    assert words in rejected(cap(sent=sent, expires=expires))


def test_fee012_cot_leap_second_times_are_accepted_normalised():
    alert = decode_alert(cot("2016-12-31T23:59:60.000Z", stale="2016-12-31T23:59:60Z"))
    assert alert.reported_at == NEW_YEAR_2017
    assert datetime.fromisoformat(alert.model_extra["cot_stale"]) == NEW_YEAR_2017
    assert decode_alert(cot("2016-12-31T23:59:60")).reported_at == NEW_YEAR_2017  # CoT times are UTC


@pytest.mark.parametrize(
    ("time", "words"),
    [("0001-01-01T00:00:00Z", f"CoT 'time' '0001-01-01T00:00:00Z' is outside the accepted range {RANGE}"),
     ("9999-12-31T23:59:59.999Z", "CoT 'time' '9999-12-31T23:59:59.999Z' is outside"),
     ("2023-12-11T11:31:60.000Z", "CoT 'time' has second 60, which is only a leap second")],
)
def test_fee013_cot_times_that_cannot_be_are_refused_naming_the_attribute(time, words):
    assert words in rejected(cot(time))


@pytest.mark.parametrize(
    ("start", "words"),
    [("yesterday", "CoT 'start' is not a date-time"),
     ("9999-01-01T00:00:00Z", "CoT 'start' '9999-01-01T00:00:00Z' is outside the accepted range"),
     ("1066-10-14T09:00:00Z", "CoT 'start' '1066-10-14T09:00:00Z' is outside the accepted range")],
)
def test_fee014_a_cot_start_that_cannot_be_is_refused_naming_it_for_alerts_ours_and_positions(start, words):
    from alerts.formats.assets import decode_asset_message
    from alerts.formats.cot.encode import event_bytes

    good = "2017-01-01T00:00:00.000Z"
    assert words in rejected(cot(good).replace(f"start='{good}'".encode(), f"start='{start}'".encode()))
    ours = event_bytes(_stored(make_alert(), 21.43, 42.0), datetime(2026, 11, 29, 12, tzinfo=UTC))
    assert words in rejected(re.sub(rb'start="[^"]*"', f'start="{start}"'.encode(), ours))
    position = cot(good).replace(b"type='b-a-o-tbl'", b"type='a-f-G-U-C'")
    with pytest.raises(Rejected) as info:
        decode_asset_message(position.replace(f"start='{good}'".encode(), f"start='{start}'".encode()))
    assert words in info.value.reason

# --- GeoJSON: the USGS feed, by its structure ------------------------------------------------------


def usgs_alerts(name: str) -> dict[str, Alert]:
    return {alert.id: alert for alert in map(decode_alert, split_payloads((CASES / name).read_bytes()))}


def test_fee020_publish_sends_each_feature_as_its_own_feature_payload():
    raw = (CASES / "08_usgs-feed-null-mag.geojson").read_bytes()
    payloads = split_payloads(raw)
    features = [json.loads(p) for p in payloads]
    assert [f["type"] for f in features] == ["Feature"] * 3
    assert features == json.loads(raw)["features"]  # sent as they are: ingest does the mapping


def test_fee021_case_08_usgs_features_with_and_without_magnitude_become_alerts():
    alerts = usgs_alerts("08_usgs-feed-null-mag.geojson")
    assert sorted(alerts) == ["usgs:us7000qa01", "usgs:us7000qa02", "usgs:us7000qa03"]
    unknown = alerts["usgs:us7000qa02"]
    assert unknown.severity.value == "low" and unknown.model_extra["magnitude"] is None
    assert unknown.title == "Earthquake, magnitude unknown - 12 km N of Kraljevo, Serbia"
    assert unknown.type.value == "natural_disaster" and unknown.source == "USGS"
    assert unknown.releasable_to == ["ALL"] and unknown.exercise is False
    assert (unknown.location.lat, unknown.location.lon) == (43.83, 20.69)
    assert unknown.model_extra["depth_km"] == 10.0
    assert unknown.model_extra["url"] == "https://earthquake.usgs.gov/earthquakes/eventpage/us7000qa02"
    assert unknown.reported_at == datetime.fromtimestamp(1795950120, UTC)
    assert [alerts[i].severity.value for i in ("usgs:us7000qa01", "usgs:us7000qa03")] == ["medium", "high"]
    assert alerts["usgs:us7000qa03"].model_extra["magnitude"] == 5.3


def test_fee022_real_usgs_feed_excerpt_with_an_unknown_magnitude():
    alerts = usgs_alerts("usgs_all_month_2018-09-22_excerpt.geojson")
    assert sorted(alerts) == ["usgs:ak20260406", "usgs:ci37363842", "usgs:nc73087921"]
    quake = alerts["usgs:nc73087921"]
    assert quake.title == "Earthquake, magnitude unknown - 14km E of Seven Trees, CA"
    assert quake.severity.value == "low" and quake.model_extra["magnitude"] is None
    assert quake.reported_at == datetime(2018, 9, 22, 1, 53, 8, 710_000, tzinfo=UTC)
    assert alerts["usgs:ak20260406"].title == "M 1.6 - 121km NW of Arctic Village, Alaska"


def _usgs_feature(**properties) -> dict:
    base = json.loads((CASES / "08_usgs-feed-null-mag.geojson").read_text(encoding="utf-8"))["features"][1]
    base["properties"].update(properties)
    return base


def test_fee023_usgs_event_types_other_than_natural_hazards_are_type_other():
    alert = decode_alert(json.dumps(_usgs_feature(type="quarry blast", mag=1.9, title="M 1.9 Quarry Blast - x")))
    assert alert.type.value == "other" and alert.title == "M 1.9 Quarry Blast - x" and alert.severity.value == "low"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"geometry": {"type": "Point", "coordinates": [20.69, 95.0, 10.0]}},
         "GeoJSON Feature (USGS earthquake feed): invalid alert: location.lat"),
        ({"geometry": {"type": "Point", "coordinates": ["east", 43.8]}}, "USGS feed feature: geometry is not a Point"),
        ({"properties": {"time": 10 ** 20}}, "USGS feed feature: properties.time"),
        ({"properties": {"time": -2_300_000_000_000}}, "properties.time"),
    ],
    ids=["latitude-out-of-range", "coordinates-not-numbers", "time-overflows", "time-before-1900"],
)
def test_fee024_a_usgs_feature_with_bad_values_is_refused_naming_them(changes, words):
    item = _usgs_feature(**changes.pop("properties", {}))
    item.update(changes)
    assert words in rejected(json.dumps(item))


def test_fee025_a_feature_collection_sent_as_one_payload_is_refused():
    reason = rejected((CASES / "08_usgs-feed-null-mag.geojson").read_bytes())
    assert "FeatureCollection (3 features) is not one alert" in reason
    assert "send one Feature per message" in reason and "crisisdash publish" in reason


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"type": "Feature", "properties": {"name": "Gauge 7"}, "geometry": None},
         "lack type, severity, title, reported_at, source and it is not a USGS feed feature"),
        (_usgs_feature(mag="4.5"), "fits no known mapping"),  # a magnitude as text: not the USGS structure
        (_usgs_feature(time="2026-11-29T11:02:00Z"), "fits no known mapping"),
        ({"type": "Feature", "properties": [1, 2], "geometry": None}, "has no properties object"),
        ({"type": "Feature", "properties": {}, "geometry": "POINT (1 2)"}, "geometry must be an object or null"),
        ({"type": "Feature", "properties": make_alert(),
          "geometry": {"type": "LineString", "coordinates": [[20, 44], [21, 45]]}},
         "geometry 'LineString' cannot be an alert's place"),
    ],
    ids=["plain-feature", "usgs-mag-as-text", "usgs-time-as-text", "properties-not-object", "geometry-not-object",
         "line-string"],
)
def test_fee026_a_feature_no_mapping_fits_is_refused_naming_what_was_expected(item, words):
    reason = rejected(json.dumps(item))
    assert words in reason
    if "fits no known mapping" in reason:
        assert "our export's properties" in reason and "USGS earthquake feed's" in reason


def test_fee027_publish_leaves_non_feature_items_to_ingest_which_refuses_them():
    raw = json.dumps({"type": "FeatureCollection", "features": [1, {"type": "Feature"}]}).encode()
    first, second = split_payloads(raw)
    assert rejected(first) == "not a JSON object: got int"
    assert "has no properties object" in rejected(second)



@pytest.mark.parametrize("magnitude", [1e308, -1e308, 10.6, -2.1])
def test_fee028_a_usgs_magnitude_beyond_any_real_earthquake_is_refused(magnitude):
    reason = rejected(json.dumps(_usgs_feature(mag=magnitude)))
    assert reason.startswith("USGS feed feature: properties.mag") and "outside the magnitude range -2 to 10.5" in reason


def test_fee029_usgs_magnitudes_at_the_ends_of_the_range_are_accepted():
    assert decode_alert(json.dumps(_usgs_feature(mag=10.5))).severity.value == "critical"
    assert decode_alert(json.dumps(_usgs_feature(mag=-2))).severity.value == "low"

# --- GeoJSON: our own export, one feature per message ------------------------------------------------


def _stored(alert: dict, lon: float | None, lat: float | None) -> StoredAlert:
    return StoredAlert(alert=Alert.model_validate(alert), placement=Placement(country="RS", countries=["RS"]),
                       received_at=datetime(2026, 11, 29, 12, tzinfo=UTC), lon=lon, lat=lat)


def test_fee030_our_exported_feature_sent_alone_reads_back_unchanged():
    """Unchanged but for the markings, which are those the centre holds (here: unmarked, the lowest level)."""
    area = {"type": "Polygon", "coordinates": [[[20.0, 44.0], [21.0, 44.0], [21.0, 45.0], [20.0, 44.0]]]}
    markings = {"classification": "UNCLASSIFIED", "caveats": [], "tlp": None, "releasable_to": ["ALL"]}
    for original in (_stored(make_alert(unit={"callsign": "K9"}), 21.43, 42.0),
                     _stored(make_alert(location=None, area=area), 20.5, 44.3)):
        back = decode_alert(json.dumps(feature(original)))
        assert back.model_dump() == {**original.alert.model_dump(), **markings}


def test_fee031_an_unlocated_alert_is_exported_with_a_null_geometry_and_reads_back_unlocated():
    original = _stored(make_alert(location=None, geometry_unknown=True), None, None)
    exported = feature(original)
    assert exported["geometry"] is None
    back = decode_alert(json.dumps(exported))
    assert back.location is None and back.area is None and back.model_extra["geometry_unknown"] is True


def test_fee032_a_numeric_feature_id_is_the_alert_id_as_text():
    item = feature(_stored(make_alert(), 21.43, 42.0))
    del item["properties"]["id"]
    item["id"] = 4711
    assert decode_alert(json.dumps(item)).id == "4711"


def test_fee033_our_feature_with_a_bad_field_is_refused_naming_the_mapping_and_the_field():
    item = feature(_stored(make_alert(), 21.43, 42.0))
    item["properties"]["severity"] = "dire"
    reason = rejected(json.dumps(item))
    assert reason.startswith("GeoJSON Feature (our GeoJSON export): invalid alert: severity")
    assert re.search(r"critical", reason)


def test_fee034_a_feature_carrying_the_extras_of_a_cap_or_cot_message_is_refused():
    item = feature(_stored(make_alert(), 21.43, 42.0))
    item["properties"].update(cap_status="Actual", sender="civil-protection@gov.rs")  # a CAP sender's identity
    reason = rejected(json.dumps(item))
    assert reason.startswith("GeoJSON Feature (our GeoJSON export): invalid alert: cap_status, sender: reserved")
    item = feature(_stored(make_alert(), 21.43, 42.0))
    item["properties"]["cot_type"] = "b-a-o-tbl"  # a TAK device's uid
    assert "cot_type: reserved" in rejected(json.dumps(item))
