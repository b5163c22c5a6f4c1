"""The real-world failure cases (tests/data/cases, see its README), each one through the real pipeline and Redis.

Each test's assertion is the "expected" column of the cases table. The
pipeline's clock is set to the time of the case's messages, so absolute times
in the files need no rewriting.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import shapely

from alerts.actions.escalation import EscalationMonitor
from alerts.core.feeds import FeedRegistry
from alerts.core.model import Status
from alerts.core.shapes import PLACEMENT_VERTICES, bounded
from alerts.formats.assets import parse_import
from alerts.formats.cot.encode import events_document
from alerts.store.alerts import AlertStore
from alerts.store.assets import AssetStore
from alerts.store.workflow import WorkflowStore
from tests.conftest import DATA, ROOT, alert_pipeline, asset_pipeline

CASES = DATA / "cases"


def case(name: str) -> bytes:
    return (CASES / name).read_bytes()


class Clock:
    """A clock the test sets by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 29, 13, 40, 30, tzinfo=UTC))


#: The case files' producers, registered (their alerts are routed, so they are worked and escalate).
CASE_FEEDS = FeedRegistry.load(ROOT / "tests" / "data" / "feeds.toml")


@pytest.fixture
def centre_parts(client, keys, regions, templates, clock):
    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, templates)
    pipeline = alert_pipeline(client, keys, regions, store=store, clock=clock, on_recorded=workflow.open_checklists,
                              feeds=CASE_FEEDS)
    return store, workflow, pipeline, EscalationMonitor(workflow)


def only(result):
    assert len(result.accepted) == 1 and not result.dead, (result.accepted, result.dead)
    return result.accepted[0]


def test_cas001_an_atak_cancel_without_contact_cancels_its_emergency_and_stops_escalation(centre_parts, clock):
    store, workflow, pipeline, monitor = centre_parts
    emergency = only(pipeline.process([("tak", case("01a_cot-911-uid-reuse.xml"))]))
    assert emergency.status is Status.NEW and emergency.alert.source == "Bravo-2-Alert"
    clock.now = datetime(2026, 11, 29, 13, 42, 45, tzinfo=UTC)
    pipeline.process([("tak", case("01b_cot-911-uid-reuse-cancel.xml"))])  # no <contact>: source "TAK"
    closed = store.get(emergency.id)
    assert closed.status is Status.CANCELLED and closed.superseded_by
    assert monitor.check(emergency.received_at + timedelta(hours=1)) == []  # no escalation after the cancel


def test_cas002_the_same_device_raising_a_second_emergency_is_a_second_alert(centre_parts, clock):
    store, workflow, pipeline, monitor = centre_parts
    first = only(pipeline.process([("tak", case("01a_cot-911-uid-reuse.xml"))]))
    repeat = pipeline.process([("tak", case("01a_cot-911-uid-reuse.xml"))])
    assert repeat.duplicates == [first.id] and not repeat.accepted  # the same report again: the same alert
    clock.now = datetime(2026, 11, 29, 13, 42, 45, tzinfo=UTC)
    pipeline.process([("tak", case("01b_cot-911-uid-reuse-cancel.xml"))])
    clock.now = datetime(2026, 11, 29, 13, 50, 1, tzinfo=UTC)
    second = only(pipeline.process([("tak", case("01c_cot-911-uid-reuse-second-emergency.xml"))]))
    assert second.id != first.id and second.alert.id == first.alert.id  # same uid, new alert
    assert second.status is Status.NEW and "vehicle rollover" in second.alert.title
    assert store.get(first.id).status is Status.CANCELLED
    assert workflow.state(second.id) is not None  # it is worked like any new alert
    assert [e.alert_id for e in monitor.check(second.received_at + timedelta(minutes=6))] == [second.id]
    again = pipeline.process([("tak", case("01c_cot-911-uid-reuse-second-emergency.xml"))])
    assert again.duplicates == [second.id]  # replaying the second one makes no third


def test_cas003_two_cap_senders_with_the_same_identifier_are_two_alerts(centre_parts):
    store, workflow, pipeline, _ = centre_parts
    rs = only(pipeline.process([("cap", case("02a_cap-same-identifier-sender-rs.xml"))]))
    mk = only(pipeline.process([("cap", case("02b_cap-same-identifier-sender-mk.xml"))]))
    assert rs.alert.id == mk.alert.id == "2026-0001" and rs.id != mk.id
    assert rs.id == "2026-0001"  # the first keeps the producer id; the second gets a distinct key
    assert store.get(mk.id).alert.title.startswith("Wildfire")
    assert store.get(rs.id).alert.title.startswith("Flooding")
    assert workflow.state(rs.id) is not None and workflow.state(mk.id) is not None  # each worked on its own
    replay = pipeline.process([("cap", case("02b_cap-same-identifier-sender-mk.xml"))])
    assert replay.duplicates == [mk.id]


@pytest.mark.parametrize("order", [("03a", "03b"), ("03b", "03a")], ids=["alert-first", "cancel-first"])
def test_cas004_a_cap_cancel_applies_whatever_the_order_of_arrival(centre_parts, order):
    store, workflow, pipeline, monitor = centre_parts
    files = {"03a": "03a_cap-original-alert.xml", "03b": "03b_cap-cancel-of-0457.xml"}
    results = [pipeline.process([("cap", case(files[name]))]) for name in order]
    original = store.get("RS-HM-2026-0457")
    cancel = store.get("RS-HM-2026-0458")
    assert original.status is Status.CANCELLED and original.superseded_by == cancel.id
    assert cancel.status is Status.CANCELLED
    assert workflow.state(original.id) is None or workflow.state(original.id).resolution is None
    assert monitor.check(original.received_at + timedelta(days=1)) == []
    assert all(not r.dead for r in results)


def test_cas005_a_cap_alert_expired_on_receipt_is_kept_expired_without_checklist_or_escalation(centre_parts, clock):
    store, workflow, pipeline, monitor = centre_parts
    stored = only(pipeline.process([("cap", case("04_cap-expired-at-receipt.xml"))]))
    assert stored.status is Status.EXPIRED
    assert store.get(stored.id).expires_at == datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    assert workflow.state(stored.id) is None
    assert monitor.check(clock.now + timedelta(days=1)) == []


def test_cas006_an_open_alert_whose_validity_ends_is_marked_expired_without_escalating(centre_parts, clock):
    store, workflow, pipeline, monitor = centre_parts
    clock.now = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)  # the snowfall warning is still valid then
    stored = only(pipeline.process([("cap", case("04_cap-expired-at-receipt.xml"))]))
    assert stored.status is Status.NEW and workflow.state(stored.id) is not None
    assert [e.level for e in monitor.check(clock.now + timedelta(minutes=6))] == [1]  # high: 5 min
    assert monitor.check(datetime(2026, 11, 27, 19, 0, 1, tzinfo=UTC)) == []  # level 2 was due: it expired first
    assert store.get(stored.id).status is Status.EXPIRED


def test_cas007_a_cot_emergency_stale_on_receipt_waits_for_a_fresh_report(centre_parts, clock):
    store, workflow, pipeline, monitor = centre_parts
    clock.now = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)  # 35 min after its stale time
    stored = only(pipeline.process([("tak", case("01a_cot-911-uid-reuse.xml"))]))
    assert stored.status is Status.NEW and stored.stale
    assert monitor.check(clock.now + timedelta(hours=2)) == []
    fresh = case("01a_cot-911-uid-reuse.xml").replace(b'stale="2026-11-29T13:55:00.000Z"',
                                                      b'stale="2026-11-29T15:00:00.000Z"').replace(
        b"13:40:00.361Z", b"14:29:00.000Z")
    result = pipeline.process([("tak", fresh)])
    assert result.duplicates == [stored.id]  # a repeat report of the open emergency
    assert store.get(stored.id).stale is False
    assert [e.alert_id for e in monitor.check(clock.now + timedelta(hours=2))] == [stored.id]


def test_cas007b_repeat_reports_of_an_open_emergency_move_it_and_renew_its_stale_time(centre_parts, clock):
    """ATAK sends a raised 911 again every few seconds on its uid, with the device's position then: those were
    duplicates, so the alert stayed where it was first reported (a casualty being moved) and its CoT stale time
    ran out under it. A newer report moves it; its reported time stays the first; an older one changes nothing."""
    store, _, pipeline, _ = centre_parts
    clock.now = datetime(2026, 11, 29, 13, 41, tzinfo=UTC)
    first = only(pipeline.process([("tak", case("01a_cot-911-uid-reuse.xml"))]))

    def report(time: bytes, lat: bytes, stale: bytes) -> bytes:
        text = case("01a_cot-911-uid-reuse.xml")
        point = re.search(rb"lat=['\"]([^'\"]+)['\"]", text).group(1)
        return text.replace(b"13:40:00.361Z", time).replace(b"lat=\"" + point, b"lat=\"" + lat).replace(
            b"lat='" + point, b"lat='" + lat).replace(b'stale="2026-11-29T13:55:00.000Z"', stale)

    later = report(b"13:45:00.000Z", b"43.40", b'stale="2026-11-29T14:05:00.000Z"')
    clock.now = datetime(2026, 11, 29, 13, 45, 1, tzinfo=UTC)
    assert pipeline.process([("tak", later)]).duplicates == [first.id]  # the same alert ...
    moved = store.get(first.id)
    assert moved.lat == pytest.approx(43.40) and moved.alert.reported_at == first.alert.reported_at  # ... moved
    assert moved.alert.model_extra["cot_stale"].startswith("2026-11-29T14:05")
    assert moved.alert.model_extra["cot_last_report"].startswith("2026-11-29T13:45")
    older = report(b"13:43:00.000Z", b"43.10", b'stale="2026-11-29T14:10:00.000Z"')
    pipeline.process([("tak", older)])
    assert store.get(first.id).lat == pytest.approx(43.40)  # an older report, come late, changes nothing


def test_cas007c_a_report_after_the_open_emergency_lapsed_opens_a_new_alert_and_marks_the_old_stale(
        centre_parts, clock):
    """The first report's CoT stale time (13:55) passed with no report since (the device went silent, or its
    cancel was lost): the next report on the uid is a new alert, and the lapsed one, left open, was open and not
    stale, so it escalated on beside it. It stays open (only a cancel or a person closes an emergency) but stale."""
    store, _, pipeline, _ = centre_parts
    clock.now = datetime(2026, 11, 29, 13, 41, tzinfo=UTC)
    first = only(pipeline.process([("tak", case("01a_cot-911-uid-reuse.xml"))]))
    after = case("01a_cot-911-uid-reuse.xml").replace(b"13:40:00.361Z", b"14:10:00.000Z").replace(
        b'stale="2026-11-29T13:55:00.000Z"', b'stale="2026-11-29T14:25:00.000Z"')
    clock.now = datetime(2026, 11, 29, 14, 10, 1, tzinfo=UTC)
    second = only(pipeline.process([("tak", after)]))
    assert second.id != first.id and second.status is Status.NEW and not second.stale
    old = store.get(first.id)
    assert old.status.is_open and old.stale
    assert pipeline.process([("tak", after)]).duplicates == [second.id]  # its repeat is the new alert's
    assert store.get(first.id).stale and not store.get(second.id).stale


def test_cas008_an_asset_report_from_a_day_ahead_is_refused_and_correct_ones_move_it(client, keys):
    assets, errors = parse_import(case("14a_asset-import.geojson"), "14a.geojson")
    assert not errors
    AssetStore(client, keys).put_many(assets)
    pipeline = asset_pipeline(client, keys, clock=lambda: datetime(2026, 11, 29, 13, 47, 20, tzinfo=UTC))
    ahead = pipeline.process([("tak", case("14b_cot-pli-clock-one-day-ahead.xml"))])
    assert not ahead.accepted and "ahead of the centre's clock" in ahead.dead[0][1]
    pipeline.clock = lambda: datetime(2026, 11, 29, 13, 48, 20, tzinfo=UTC)
    moved = pipeline.process([("tak", case("14c_cot-pli-correct-time-1.xml")),
                              ("tak", case("14d_cot-pli-correct-time-2.xml"))])
    assert len(moved.accepted) == 2 and not moved.dead
    asset = AssetStore(client, keys).get("ANDROID-qa-heli-rs-01")
    assert (asset.position.lat, asset.position.lon) == (43.7, 21.3)
    assert [f[b"reason"].decode() for _, f in client.xrange(keys.assets_dead)][0].startswith("updated_at")


def test_cas009_a_cap_alert_with_only_an_unknown_geocode_is_kept_unlocated(centre_parts, clock):
    store, workflow, pipeline, _ = centre_parts
    stored = only(pipeline.process([("cap", case("17_cap-no-geometry-geocode-only.xml"))]))
    assert stored.lon is None and stored.lat is None and not stored.located
    assert stored.placement.country is None and stored.alert.model_extra["geometry_unknown"] is True
    assert workflow.state(stored.id) is not None  # it is worked like any other
    assert b"crisis.alert." not in events_document([stored], clock.now)  # no CoT point claiming accuracy


def test_cas010_a_lone_surrogate_is_dead_lettered_and_the_batch_goes_on(centre_parts, client, keys):
    store, _, pipeline, _ = centre_parts
    good = case("20_json-lone-surrogate.json").replace(b'"poison-1"', b'"fine-1"').replace(b'"\\udc00"', b'"ok"')
    result = pipeline.process([("stream", case("20_json-lone-surrogate.json")), ("stream", good)])
    assert [a.id for a in result.accepted] == ["fine-1"]
    assert len(result.dead) == 1 and "cannot be stored" in result.dead[0][1]
    assert store.get("poison-1") is None and client.xlen(keys.dead_letters) == 1


def test_cas011_a_4000_vertex_self_intersecting_area_is_placed_within_the_budget(centre_parts):
    store, _, pipeline, _ = centre_parts
    stored = only(pipeline.process([("stream", case("21_json-zigzag-4000-vertices.json"))]))
    assert stored.placement.approximate is True and stored.placement.country is not None
    geometry, approximate = bounded(stored.alert.area.shape())
    assert approximate and shapely.get_num_coordinates(geometry) <= PLACEMENT_VERTICES
    assert stored.alert.area.coordinates == store.get(stored.id).alert.area.coordinates  # the area as sent is kept
