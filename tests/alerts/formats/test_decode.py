"""decode_alert: one raw payload -> an Alert, or a Rejected whose reason names the problem."""
from __future__ import annotations

import contextlib

import json
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.formats.decode import DEFAULT_MAX_BYTES, Rejected, decode_alert
from alerts.core.model import Alert, AlertType, Placement, Severity, StoredAlert
from tests.conftest import make_alert, payload


def rejected(raw: bytes | str, **kwargs) -> str:
    """Decode ``raw``, insist it is refused, and return the reason."""
    with pytest.raises(Rejected) as info:
        decode_alert(raw, **kwargs)
    reason = info.value.reason
    assert isinstance(reason, str) and reason.strip(), "a refusal must carry a readable reason"
    assert str(info.value) == reason
    return reason


# --- accepted payloads -------------------------------------------------------------


def test_dec001_valid_alert_decodes():
    data = make_alert(
        id="mk-2024-0001",
        type="natural_disaster",
        severity="critical",
        title="Flooding in Skopje",
        location={"lat": 41.9981, "lon": 21.4254},
        reported_at="2024-05-01T10:15:00+02:00",
        source="MK",
        exercise=True,
    )
    alert = decode_alert(payload(data))
    assert isinstance(alert, Alert)
    assert alert.id == "mk-2024-0001"
    assert alert.type is AlertType.NATURAL_DISASTER
    assert alert.severity is Severity.CRITICAL
    assert alert.title == "Flooding in Skopje"
    assert (alert.location.lat, alert.location.lon) == (41.9981, 21.4254)
    assert alert.reported_at == datetime(2024, 5, 1, 8, 15, tzinfo=UTC)
    assert alert.reported_at.utcoffset() == timedelta(hours=2)
    assert alert.exercise is True
    assert alert.point() == (21.4254, 41.9981)


def test_dec002_str_payload_and_area_only_alert_decode():
    area = {"type": "Polygon", "coordinates": [[[20.0, 41.0], [21.0, 41.0], [21.0, 42.0], [20.0, 42.0], [20.0, 41.0]]]}
    alert = decode_alert(json.dumps(make_alert(location=None, area=area)))
    assert alert.location is None
    assert alert.area is not None and alert.area.type == "Polygon"
    lon, lat = alert.point()
    assert 20.0 < lon < 21.0 and 41.0 < lat < 42.0


def test_dec003_unknown_extra_fields_are_kept():
    data = make_alert(partner_ref="EUFOR-77", unit={"callsign": "K9", "size": 4}, tags=["river", "night"])
    alert = decode_alert(payload(data))
    assert alert.model_extra == {
        "partner_ref": "EUFOR-77",
        "unit": {"callsign": "K9", "size": 4},
        "tags": ["river", "night"],
    }
    assert alert.partner_ref == "EUFOR-77"
    assert alert.model_dump()["unit"] == {"callsign": "K9", "size": 4}


def test_dec004_extra_fields_survive_stored_alert_json_round_trip():
    alert = decode_alert(payload(make_alert(partner_ref="EUFOR-77", unit={"callsign": "K9"})))
    stored = StoredAlert(
        alert=alert,
        placement=Placement(country="MK", country_name="North Macedonia", countries=["MK"]),
        received_at=datetime(2024, 5, 1, 8, 15, tzinfo=UTC),
        lon=21.43,
        lat=42.0,
    )
    back = StoredAlert.model_validate_json(stored.model_dump_json())
    assert back.alert.model_extra == {"partner_ref": "EUFOR-77", "unit": {"callsign": "K9"}}
    assert back == stored


def test_dec005_releasable_to_is_normalised_upper_case():
    alert = decode_alert(payload(make_alert(releasable_to=["rs", " hu ", "RS", "all"])))
    assert alert.releasable_to == ["RS", "HU", "ALL"]


def test_dec006_payload_exactly_at_the_limit_is_accepted():
    raw = payload(make_alert())
    assert decode_alert(raw, max_bytes=len(raw)).id == json.loads(raw)["id"]


# --- refused payloads: each with a reason that names the problem ------------------


def test_dec010_not_json_is_rejected():
    reason = rejected(b'{"id": "x", "type": ')
    assert reason.startswith("not JSON")


def test_dec011_json_array_is_rejected_as_not_an_object():
    reason = rejected(json.dumps([make_alert()]))
    assert "not a JSON object" in reason and "list" in reason


def test_dec012_missing_required_field_is_rejected():
    data = make_alert()
    del data["title"]
    reason = rejected(payload(data))
    assert "title" in reason and "required" in reason.lower()


def test_dec013_unknown_type_is_rejected():
    reason = rejected(payload(make_alert(type="alien_invasion")))
    assert "type" in reason and "terrorism" in reason  # names the field and what is allowed


def test_dec014_unknown_severity_is_rejected():
    reason = rejected(payload(make_alert(severity="apocalyptic")))
    assert "severity" in reason and "critical" in reason


@pytest.mark.parametrize("lat", [90.0001, -91, 1e9])
def test_dec015_latitude_out_of_range_is_rejected(lat):
    reason = rejected(payload(make_alert(location={"lat": lat, "lon": 20.0})))
    assert "location.lat" in reason and "90" in reason


@pytest.mark.parametrize("lon", [180.5, -181, -1e9])
def test_dec016_longitude_out_of_range_is_rejected(lon):
    reason = rejected(payload(make_alert(location={"lat": 41.0, "lon": lon})))
    assert "location.lon" in reason and "180" in reason


NON_FINITE = [("lat", float("nan")), ("lon", float("nan")), ("lat", float("inf")), ("lon", float("-inf"))]


@pytest.mark.parametrize(("field", "value"), NON_FINITE, ids=["lat-nan", "lon-nan", "lat-inf", "lon-minus-inf"])
def test_dec017_nan_or_infinite_coordinate_is_rejected(field, value):
    location = {"lat": 41.0, "lon": 20.0, field: value}
    raw = json.dumps(make_alert(location=location)).encode()  # json.dumps writes NaN / Infinity
    reason = rejected(raw)
    assert f"location.{field}" in reason


@pytest.mark.parametrize(("field", "value"), NON_FINITE, ids=["lat-nan", "lon-nan", "lat-inf", "lon-minus-inf"])
def test_dec018_nan_or_infinite_coordinate_reason_says_not_finite(field, value):
    # A NaN latitude is not "greater than 90"; the reason must say what is wrong.
    location = {"lat": 41.0, "lon": 20.0, field: value}
    reason = rejected(json.dumps(make_alert(location=location)).encode())
    assert "finite" in reason.lower(), reason


def test_dec019_oversize_payload_is_rejected_before_parsing():
    raw = payload(make_alert())
    reason = rejected(raw, max_bytes=len(raw) - 1)
    assert reason == f"payload too large: {len(raw)} bytes (limit {len(raw) - 1})"
    # The default limit applies too, even to bytes that are not JSON at all.
    reason = rejected(b"{" + b" " * DEFAULT_MAX_BYTES + b"}")
    assert reason.startswith("payload too large") and str(DEFAULT_MAX_BYTES) in reason


@pytest.mark.parametrize(
    "raw",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", b'{"title": "caf\xe9"}', b"\xc3\x28", b"\xed\xa0\x80"],
    ids=["png", "latin1", "bad-continuation", "surrogate"],
)
def test_dec020_binary_junk_not_utf8_is_rejected(raw):
    assert rejected(raw).startswith("not UTF-8")


def test_dec021_utf8_with_nul_bytes_is_rejected():
    assert "NUL" in rejected(b'{"id": "a\x00b"}')


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\t ", ""], ids=["empty", "spaces", "whitespace", "empty-str"])
def test_dec022_empty_payload_is_rejected(raw):
    assert rejected(raw) == "empty payload"


def test_dec023_xxe_is_refused_without_reading_the_file(tmp_path):
    # The entity points at a FIFO. Anything that opens it for reading wakes the
    # writer thread, which records that before it writes the secret.
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer():
        fd = os.open(fifo, os.O_WRONLY)  # blocks until a reader opens the FIFO
        opened.set()
        try:
            with contextlib.suppress(BrokenPipeError):  # the reader may already have gone
                os.write(fd, b"TOPSECRET-XXE")
        finally:
            os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    raw = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE alert [<!ENTITY xxe SYSTEM "{fifo.as_uri()}">]>\n'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>'
    ).encode()
    try:
        reason = rejected(raw)
        read_during_decode = opened.is_set()
    finally:
        release = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # let the writer finish
        thread.join(5)
        os.close(release)
    assert not read_during_decode, "the decoder opened the external entity's file"
    assert "TOPSECRET" not in reason
    assert reason.startswith("hostile XML refused") and "DTD" in reason


def test_dec024_entity_expansion_bomb_is_refused():
    raw = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<lolz>&lol3;</lolz>"
    )
    reason = rejected(raw)
    assert reason.startswith("hostile XML refused")


@pytest.mark.parametrize("title", ["bell\x07title", "nul\x00title", "esc\x1b[31m", "del\x7f"], ids=["bel", "nul", "esc", "del"])
def test_dec025_control_characters_in_title_are_rejected(title):
    reason = rejected(json.dumps(make_alert(title=title)).encode())
    assert "title" in reason and "control characters" in reason


def test_dec026_naive_datetime_without_offset_is_rejected():
    reason = rejected(payload(make_alert(reported_at="2024-05-01T10:15:00")))
    assert "reported_at" in reason and "timezone" in reason


@pytest.mark.parametrize(
    "area",
    [
        {"type": "Polygon", "coordinates": [[[20.0, 41.0], [21.0, 41.0]]]},
        {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], [5, 6]]]},
        {"type": "Polygon", "coordinates": []},
    ],
    ids=["two-points", "strings", "empty"],
)
def test_dec027_area_that_is_not_a_valid_polygon_is_rejected(area):
    reason = rejected(payload(make_alert(location=None, area=area)))
    assert "area" in reason and ("not a valid GeoJSON Polygon" in reason or "empty" in reason)


def test_dec028_area_of_another_geometry_type_is_rejected():
    reason = rejected(payload(make_alert(location=None, area={"type": "Point", "coordinates": [20.0, 41.0]})))
    assert "area.type" in reason and "Polygon" in reason


def test_dec029_alert_with_neither_location_nor_area_is_kept_unlocated():
    data = make_alert()
    del data["location"]
    alert = decode_alert(payload(data))
    assert alert.location is None and alert.area is None and alert.point() is None


@pytest.mark.parametrize("code", ["SRB", "R5", "", "Serbia"], ids=["iso3", "digit", "empty", "name"])
def test_dec030_bad_releasable_to_code_is_rejected(code):
    reason = rejected(payload(make_alert(releasable_to=["RS", code])))
    assert "releasable_to" in reason and repr(code) in reason


def test_dec031_empty_releasable_to_is_rejected():
    reason = rejected(payload(make_alert(releasable_to=[])))
    assert "releasable_to" in reason and "at least one nation" in reason


def test_dec032_wrong_json_type_for_location_is_rejected():
    reason = rejected(payload(make_alert(location={"lat": "north", "lon": 20.0})))
    assert "location.lat" in reason and "number" in reason


# --- the contract: nothing but Rejected ever escapes -------------------------------


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_dec040_any_input_is_an_alert_or_rejected(raw):
    try:
        assert isinstance(decode_alert(raw), Alert)
    except Rejected as exc:
        assert exc.reason


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(["id", "type", "severity", "title", "location", "reported_at", "source", "releasable_to"]),
    value=JSON_VALUES,
)
def test_dec041_mutated_field_is_an_alert_or_rejected_naming_it(field, value):
    data = make_alert()
    data[field] = value
    try:
        decode_alert(json.dumps(data).encode())
    except Rejected as exc:
        assert field in exc.reason or (field == "location" and "area" in exc.reason), exc.reason


def _nested_extra(depth: int) -> bytes:
    """A valid alert with one extra field nested ``depth`` arrays deep."""
    return payload(make_alert()).rstrip(b"}") + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"


def test_dec042_deeply_nested_json_is_rejected():
    assert rejected(b"[" * 50_000 + b"]" * 50_000).startswith("not JSON")
    assert rejected(_nested_extra(50_000)).startswith("not JSON")


@pytest.mark.parametrize("depth", [200, 300, 900])
def test_dec043_an_accepted_alert_survives_the_stored_json_round_trip(depth):
    # Whatever decode accepts, the store must be able to write and read back;
    # otherwise one payload makes every later reader of the alert fail.
    try:
        alert = decode_alert(_nested_extra(depth))
    except Rejected as exc:
        assert "deep" in exc.reason or "nest" in exc.reason, exc.reason
        return
    stored = StoredAlert(alert=alert, placement=Placement(), received_at=datetime(2024, 1, 1, tzinfo=UTC), lon=21.43, lat=42.0)
    assert StoredAlert.model_validate_json(stored.model_dump_json()) == stored


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("bad", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_dec044_non_finite_area_coordinate_is_rejected(bad):
    ring = [[20.0, 41.0], [21.0, bad], [21.0, 42.0], [20.0, 42.0], [20.0, 41.0]]
    raw = json.dumps(make_alert(location=None, area={"type": "Polygon", "coordinates": [ring]})).encode()
    try:
        alert = decode_alert(raw)
    except Rejected as exc:
        assert "area" in exc.reason
        return
    pytest.fail(f"accepted an area with a {bad} coordinate: {alert.area}")


# --- what only a decoder may decide: the format, hence identity and feed ------------------------------


@pytest.mark.parametrize(
    ("extras", "names"),
    [({"cap_status": "Actual", "sender": "civil-protection@gov.rs"}, "cap_status, sender"),
     ({"cot_type": "b-a-o-tbl"}, "cot_type"),
     ({"cot_releasable_to": "RS"}, "cot_releasable_to"),
     ({"cap_references": [{"sender": "x", "identifier": "y", "sent": "2024-01-01T00:00:00Z"}]}, "cap_references"),
     ({"stale": True}, "stale"), ({"superseded_by": "other"}, "superseded_by")],
    ids=["cap-identity", "cot-uid", "cot-markings", "cap-references", "stale-mark", "superseded-by"],
)
def test_dec045_a_json_alert_may_not_carry_the_extras_cap_cot_or_ingest_set(extras, names):
    from alerts.core.model import RESERVED_EXTRAS

    assert set(extras) <= RESERVED_EXTRAS
    reason = rejected(payload(make_alert(**extras)))
    assert reason.startswith(f"invalid alert: {names}: reserved")
    nested = json.dumps({**make_alert(**extras), "deep": [[[{"x": 1}]]] * 20}).encode()  # the non-fast path
    assert rejected(nested).startswith(f"invalid alert: {names}: reserved")


def test_dec046_references_are_limited_per_message_as_in_cap():
    from alerts.core.model import MAX_REFERENCES

    limit = [f"a-{n}" for n in range(MAX_REFERENCES)]
    assert len(decode_alert(payload(make_alert(msg_type="cancel", references=limit))).references) == MAX_REFERENCES
    reason = rejected(payload(make_alert(msg_type="cancel", references=[f"a-{n}" for n in range(60_000)])))
    assert reason == "invalid alert: references: 60000 given; at most 100 per message are accepted"


@pytest.mark.parametrize(
    ("expires", "words"),
    [("tomorrow", "expires is not a date-time"),
     ("2030-01-01T00:00:00", "expires has no timezone offset"),
     ("2201-01-01T00:00:00Z", "expires '2201-01-01T00:00:00Z' is outside the accepted range"),
     (1_700_000_000, "expires must be a date-time string")],
)
def test_dec047_expires_must_be_a_date_time_with_an_offset_in_range(expires, words):
    assert words in rejected(payload(make_alert(expires=expires)))


def test_dec048_a_good_expires_is_kept_normalised_and_sets_the_end_of_validity():
    from alerts.core.validity import expires_at

    alert = decode_alert(payload(make_alert(expires="2016-12-31T23:59:60Z")))
    assert alert.model_extra["expires"] == "2017-01-01T00:00:00+00:00"
    assert expires_at(alert) == datetime(2017, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ['{"score": NaN}', '{"score": Infinity}', '{"scores": {"a": [1, -Infinity]}}'])
def test_dec049_nan_and_infinity_in_extra_fields_are_refused_naming_the_field(text):
    raw = payload(make_alert())[:-1] + b", " + text[1:].encode()
    assert rejected(raw) in ("invalid alert: score is not a finite number (JSON has no NaN or Infinity)",
                             "invalid alert: scores.a.1 is not a finite number (JSON has no NaN or Infinity)")
