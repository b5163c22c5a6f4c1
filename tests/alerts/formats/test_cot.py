"""Cursor-on-Target -> Alert: emergency types become alerts, positions and markers do not."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timezone

import pytest

from tests.conftest import DATA
from alerts.formats.decode import Rejected, decode_alert

MANIFEST = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
COT_FILES = [e for e in MANIFEST if e["kind"] == "cot"]


def rejected(payload: bytes | str) -> str:
    with pytest.raises(Rejected) as info:
        decode_alert(payload)
    return info.value.reason


def cot_event(
    cot_type="b-a-o-tbl",
    uid="ANDROID-abc123-9-1-1",
    time="2024-05-01T10:00:00.000Z",
    lat="44.8125",
    lon="20.4612",
    ce="12.5",
    le="9999999.0",
    callsign="Bravo-2",
    remarks=None,
    opex=None,
    detail_extra="",
    version="2.0",
    markings="",
) -> str:
    attributes = f"version='{version}' uid='{uid}' type='{cot_type}' time='{time}' start='{time}' "
    attributes += "stale='2024-05-01T10:10:00.000Z' how='h-e'" + (f" {markings}" if markings else "")
    if opex is not None:
        attributes += f" opex='{opex}'"
    detail = ""
    if callsign is not None:
        detail += f"<contact callsign='{callsign}'/>"
    label = {"b-a-o-tbl": "911 Alert", "b-a-o-pan": "Ring The Bell", "b-a-o-can": "911 Alert"}.get(cot_type, "")
    cancel = " cancel='true'" if cot_type == "b-a-o-can" else ""
    detail += "<link uid='ANDROID-abc123' type='a-f-G-U-C' relation='p-p'/>"
    detail += f"<emergency type='{label}'{cancel}>{callsign or ''}</emergency>"
    if remarks is not None:
        detail += f"<remarks>{remarks}</remarks>"
    detail += detail_extra
    point = f"<point lat='{lat}' lon='{lon}' hae='9999999.0' ce='{ce}' le='{le}'/>" if lat is not None else ""
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>"
        f"<event {attributes}>{point}<detail>{detail}</detail></event>"
    )


@pytest.mark.parametrize("entry", COT_FILES, ids=[e["cot_type"] for e in COT_FILES])
def test_cot001_samples_are_position_or_marker_reports(entry):
    reason = rejected((DATA / entry["file"]).read_bytes())
    assert reason == f"CoT {entry['cot_type']} is a position/marker report, not an alert"


def test_cot002_911_alert():
    alert = decode_alert(cot_event())
    assert alert.id == "ANDROID-abc123-9-1-1"
    assert (alert.severity, alert.type, alert.msg_type) == ("high", "other", "alert")
    assert (alert.location.lat, alert.location.lon) == (44.8125, 20.4612)
    assert alert.reported_at == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert alert.source == "Bravo-2"
    assert alert.title == "911 Alert: Bravo-2"
    assert alert.exercise is False
    extra = alert.model_extra
    assert extra["cot_type"] == "b-a-o-tbl"
    assert extra["cot_stale"] == "2024-05-01T10:10:00+00:00" and "stale" not in extra
    assert extra["emergency_type"] == "911 Alert"
    assert extra["ce_m"] == 12.5


def test_cot003_ring_the_bell_is_critical():
    alert = decode_alert(cot_event(cot_type="b-a-o-pan", uid="ANDROID-abc123-9-1-1"))
    assert alert.severity == "critical"
    assert alert.title == "Ring The Bell: Bravo-2"


@pytest.mark.parametrize(("cot_type", "label"), [("b-a-o-opn", "Troops In Contact"), ("b-a-g", "Geo-fence Breached"),
                                                ("b-a-o-c", "Custom Emergency"), ("b-a-o-xyz", "Alarm")])
def test_cot004_other_alarm_types(cot_type, label):
    alert = decode_alert(cot_event(cot_type=cot_type))
    assert alert.severity == "high"
    assert alert.title == f"{label}: Bravo-2"


def test_cot005_cancel_refers_to_the_alarm_uid():
    alert = decode_alert(cot_event(cot_type="b-a-o-can"))
    assert alert.id == "ANDROID-abc123-9-1-1:cancel"
    assert alert.msg_type == "cancel"
    assert alert.references == ["ANDROID-abc123-9-1-1"]
    assert alert.severity == "low"
    assert alert.title == "Cancellation of ANDROID-abc123-9-1-1"
    # a cancel needs no fix: it is placed at 0,0 and flagged
    no_fix = decode_alert(cot_event(cot_type="b-a-o-can", lat="0.0", lon="0.0", ce="9999999.0"))
    assert no_fix.model_extra["geometry_unknown"] is True


@pytest.mark.parametrize(
    ("lat", "lon", "ce"),
    [("0.0", "0.0", "9999999.0"), ("-0.004287826538927404", "-0.0076812372022802555", "9999999.0"), ("0", "0", "5")],
)
def test_cot006_alarm_without_gps_fix_is_kept_unlocated(lat, lon, ce):
    """An emergency without a fix is still an emergency: kept, never placed at 0,0."""
    alert = decode_alert(cot_event(lat=lat, lon=lon, ce=ce))
    assert alert.location is None and alert.point() is None
    assert alert.model_extra["geometry_unknown"] is True and "Bravo-2" in alert.title


def test_cot007_near_null_island_with_known_error_is_a_fix():
    alert = decode_alert(cot_event(lat="0.05", lon="0.02", ce="10"))
    assert alert.location.lat == 0.05


@pytest.mark.parametrize(("opex", "exercise"), [("e", True), ("e-NATO-CMX", True), ("s", True), ("o", False)])
def test_cot008_opex_marks_exercises(opex, exercise):
    assert decode_alert(cot_event(opex=opex)).exercise is exercise


def test_cot009_opex_in_detail():
    assert decode_alert(cot_event(detail_extra="<opex>exercise</opex>")).exercise is True
    assert decode_alert(cot_event(detail_extra="<opex value='o'/>")).exercise is False


def test_cot010_remarks_become_title_and_description():
    alert = decode_alert(cot_event(remarks="Man down at\n checkpoint 3"))
    assert alert.title == "Man down at checkpoint 3"
    assert alert.description == "Man down at\n checkpoint 3"


def test_cot011_source_falls_back_to_tak():
    assert decode_alert(cot_event(callsign=None)).source == "TAK"
    assert decode_alert(cot_event(callsign="X")).source == "TAK"
    assert decode_alert(cot_event(callsign=None)).title == "911 Alert"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"cot_type": "t-x-c"}, "not an alert type"),
        ({"cot_type": "a-h-G"}, "position/marker report"),
        ({"cot_type": "b-m-p-w"}, "position/marker report"),
        ({"cot_type": ""}, "no 'type'"),
        ({"uid": ""}, "no 'uid'"),
        ({"time": ""}, "no 'time'"),
        ({"time": "yesterday"}, "not a date-time"),
        ({"lat": None}, "no <point>"),
        ({"lat": "north"}, "not a number"),
        ({"lat": "nan"}, "finite"),
        ({"lat": "95"}, "out of range"),
        ({"version": "1.0"}, "not 2.x"),
        ({"uid": "u" * 250}, "id:"),
    ],
)
def test_cot012_bad_events_rejected(kwargs, words):
    assert words in rejected(cot_event(**kwargs))


def test_cot013_naive_time_is_utc():
    alert = decode_alert(cot_event(time="2024-05-01T10:00:00"))
    assert alert.reported_at.tzinfo is not None
    assert alert.reported_at == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


def test_cot014_namespaced_event_is_not_cot():
    reason = rejected("<event xmlns='urn:example' version='2.0' type='b-a-o-tbl'/>")
    assert reason.startswith("not a CAP alert: root element <event>")


def test_cot015_the_cot_stale_time_is_kept_as_cot_stale_not_as_the_alerts_stale_mark():
    from alerts.core.model import Placement, StoredAlert
    from alerts.core.validity import expires_at
    from dashboard.api.alerts import alert_json

    alert = decode_alert(cot_event(time="2024-05-01T10:00:00.000Z"))
    assert alert.model_extra["cot_stale"] == "2024-05-01T10:10:00+00:00" and "stale" not in alert.model_extra
    fresh = StoredAlert(alert=alert, placement=Placement(), received_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
                        expires_at=expires_at(alert))
    body = alert_json(fresh)
    assert "stale" not in body and body["cot_stale"] == "2024-05-01T10:10:00+00:00"  # stale means one thing
    assert alert_json(fresh.model_copy(update={"stale": True}))["stale"] is True


def test_cot016_a_record_stored_with_the_old_extra_name_reads_as_cot_stale():
    from alerts.core.model import StoredAlert
    from alerts.core.validity import expires_at

    alert = decode_alert(cot_event()).model_dump(mode="json")
    alert["stale"] = alert.pop("cot_stale")  # as recorded before the rename
    record = {"alert": alert, "placement": {}, "received_at": "2024-05-01T10:00:00+00:00", "stale": False}
    stored = StoredAlert.model_validate_json(json.dumps(record))
    assert stored.alert.model_extra["cot_stale"] == "2024-05-01T10:10:00+00:00"
    assert "stale" not in stored.alert.model_extra
    assert expires_at(stored.alert) == datetime(2024, 5, 1, 10, 10, tzinfo=UTC)
