"""Standard formats out and back in: CoT round trip, GeoJSON round trip, the USGS feed, the TAK TCP sender."""
from __future__ import annotations

import json
from datetime import UTC, datetime


from tests.conftest import make_asset, DATA
from alerts.formats.cot.encode import event_bytes, events_document
from alerts.formats.decode import Rejected, decode_alert
from alerts.formats.geojson import alert_payloads, feature_collection, split_payloads
from alerts.core.model import Alert, Placement, StoredAlert
from tests.conftest import make_alert, payload

FIELDS_THAT_MATTER = ("id", "type", "severity", "title", "description", "reported_at", "source",
                      "releasable_to", "exercise")


def _stored(**fields) -> StoredAlert:
    alert = Alert.model_validate(make_alert(**fields))
    point = alert.point()
    return StoredAlert(alert=alert, placement=Placement(country="MK", countries=["MK"]),
                       received_at=datetime.now(UTC), lon=point[0], lat=point[1])


def _same(a: Alert, b: Alert) -> None:
    for name in FIELDS_THAT_MATTER:
        assert getattr(a, name) == getattr(b, name), name


def test_xch001_our_alert_to_cot_and_back_is_unchanged():
    area = {"type": "Polygon", "coordinates": [[[20.5, 41.5], [21.5, 41.5], [21.5, 42.5], [20.5, 41.5]]]}
    for stored in (_stored(exercise=True, unit="BRAVO-2"), _stored(location=None, area=area, releasable_to=["RS"])):
        back = decode_alert(event_bytes(stored, datetime.now(UTC)))
        _same(back, stored.alert)
        assert back.location == stored.alert.location and back.area == stored.alert.area
        assert back.model_extra == stored.alert.model_extra


def test_xch002_cot_events_carry_opex_stale_and_a_label():
    from lxml import etree

    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    inject = _stored(exercise=True, exercise_id="ex-1a2b", inject=4)
    document = etree.fromstring(events_document([_stored(exercise=True), _stored(exercise=False), inject], now))
    events = document.findall("event")
    assert [e.get("opex") for e in events] == ["e", "o", "e-ex-1a2b"]
    back = decode_alert(etree.tostring(events[2]))
    assert (back.exercise, back.exercise_id, back.inject) == (True, "ex-1a2b", 4)
    assert all(e.get("stale") == "2026-11-27T13:00:00.000000Z" for e in events)
    assert all(e.get("uid").startswith("crisis.alert.t-") for e in events)
    assert "HIGH border incident" in events[0].find("detail/contact").get("callsign")


def test_xch003_a_tampered_crisis_detail_is_refused_with_a_reason():
    raw = event_bytes(_stored(), datetime.now(UTC)).replace(b'"severity": "high"', b'"severity": "dire"')
    try:
        decode_alert(raw)
    except Rejected as exc:
        assert "severity" in exc.reason
    else:
        raise AssertionError("a tampered event was accepted")


def test_xch004_geojson_export_reimported_is_unchanged():
    area = {"type": "MultiPolygon", "coordinates": [[[[20.5, 41.5], [21.5, 41.5], [21.5, 42.5], [20.5, 41.5]]]]}
    originals = [_stored(extra_field={"nested": [1, 2]}), _stored(location=None, area=area, exercise=True)]
    exported = json.loads(json.dumps(feature_collection(originals)))
    assert exported["features"][0]["geometry"]["type"] == "Point"
    back = [decode_alert(json.dumps(p).encode()) for p in alert_payloads(exported)]
    for original, again in zip(originals, back):
        _same(again, original.alert)
        assert again.location == original.alert.location and again.area == original.alert.area
    assert back[0].model_extra["extra_field"] == {"nested": [1, 2]}


def test_xch005_the_usgs_feed_becomes_alerts():
    raw = (DATA / "geojson" / "usgs_1.0_day_2019-02-17.geojson").read_bytes()
    payloads = split_payloads(raw)
    assert len(payloads) == 158
    alerts = [decode_alert(p) for p in payloads]
    assert len({a.id for a in alerts}) == 158
    greek = [a for a in alerts if "Greece" in a.description]
    assert len(greek) == 1 and greek[0].type.value == "natural_disaster" and greek[0].source == "USGS"
    biggest = max(alerts, key=lambda a: a.model_extra["magnitude"])
    assert biggest.severity.value in ("medium", "high", "critical")
    assert all(a.reported_at.year == 2019 for a in alerts)


def test_xch006_split_payloads_leaves_other_documents_whole():
    single = payload(make_alert())
    assert split_payloads(single) == [single]
    assert split_payloads(b"<alert/>") == [b"<alert/>"]
    assert split_payloads(b"{not json") == [b"{not json"]


def _asset(asset_id: str, nation: str, releasable: list[str]):
    return make_asset(asset_id, 44.0, 20.0, type_="utility_helicopter", nation=nation, releasable_to=releasable,
                      speed_kmh=220)


def test_xch008_assets_export_as_geojson_that_assets_import_reads_back():
    from alerts.formats.assets import parse_import

    units = [_asset("u1", "RS", ["ALL"]), _asset("u2", "GR", ["GR", "RS"])]
    exported = json.dumps(feature_collection([], units))
    imported, errors = parse_import(exported, "assets.geojson")
    assert not errors
    assert [a.model_dump() for a in imported] == [a.model_dump() for a in units]


def test_xch009_a_crisis_detail_carrying_cap_or_cot_extras_is_refused_not_taken_for_that_format():
    for extras, names in (({"cap_status": "Actual", "sender": "civil-protection@gov.rs"}, "cap_status, sender"),
                          ({"cot_type": "b-a-o-tbl", "callsign": "Bravo-2"}, "callsign, cot_type")):
        from lxml import etree

        event = etree.fromstring(event_bytes(_stored(), datetime.now(UTC)))
        crisis = event.find("detail/crisis")
        crisis.text = json.dumps({**json.loads(crisis.text), **extras})  # a producer writing them itself
        raw = etree.tostring(event)
        try:
            decode_alert(raw)
        except Rejected as exc:
            assert exc.reason.startswith(f"invalid alert: {names}: reserved"), exc.reason
        else:
            raise AssertionError("a crisis detail took another format's identity")


def test_xch010_exports_of_cap_and_cot_alerts_read_back_as_our_json_keeping_what_the_producer_said():
    """Our exports of an alert that came from CAP or a TAK device are readable again (the JSON decoders refuse
    the CAP/CoT extras): those fields travel under ``producer_fields``, never as the format's own."""
    from tests.alerts.formats.test_cap import cap_xml
    from tests.alerts.formats.test_cot import cot_event

    for raw in (cap_xml(identifier="XCH010", sender="alerts@example.rs"), cot_event(uid="ANDROID-x-9-1-1")):
        alert = decode_alert(raw.encode())
        point = alert.point()
        stored = StoredAlert(alert=alert, placement=Placement(), received_at=datetime.now(UTC),
                             lon=point[0], lat=point[1])
        via_geojson = [decode_alert(json.dumps(p).encode())
                       for p in alert_payloads(json.loads(json.dumps(feature_collection([stored]))))][0]
        via_cot = decode_alert(event_bytes(stored, datetime.now(UTC)))
        for again in (via_geojson, via_cot):
            _same(again, alert)
            extra = again.model_extra
            assert "cap_status" not in extra and "cot_type" not in extra and "sender" not in extra
            assert extra["producer_fields"] == {k: v for k, v in alert.portable()["producer_fields"].items()}


def test_xch020_every_export_names_the_exercise_and_inject_an_alert_plays():
    """CSV SITREP columns, GeoJSON properties and CoT opex carry the exercise id and MSEL inject."""
    import csv
    import io

    from lxml import etree

    from alerts.core.markings import Classifications
    from alerts.formats.sitrep import incidents_csv

    played = _stored(exercise=True, exercise_id="ex-77aa", inject=12)
    rows = list(csv.DictReader(io.StringIO(incidents_csv([played], Classifications()).split("\n", 1)[1])))
    assert (rows[0]["exercise"], rows[0]["exercise_id"], rows[0]["inject"]) == ("EXERCISE", "ex-77aa", "12")
    properties = feature_collection([played])["features"][0]["properties"]
    assert (properties["exercise"], properties["exercise_id"], properties["inject"]) == (True, "ex-77aa", 12)
    event = etree.fromstring(event_bytes(played, datetime.now(UTC)))
    assert event.get("opex") == "e-ex-77aa"
