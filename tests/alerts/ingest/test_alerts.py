"""What a TAK listener read is trusted only as far as the listener vouches: CoT only, scoped by its feed."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alerts.core.feeds import Feed, FeedRegistry
from alerts.core.model import Placement, Status, StoredAlert
from alerts.formats.cot.encode import event_bytes
from alerts.formats.decode import decode_alert
from tests.alerts.formats.test_cap import cap_xml
from tests.alerts.formats.test_cot import cot_event
from tests.conftest import alert_pipeline, make_alert, payload

FEEDS = FeedRegistry([
    Feed(name="ba-tak", nation="BA", releasable_to=["BA"], cot_uid_prefix=["BIH-"]),
    Feed(name="mk-tak", nation="MK", releasable_to=["MK"], cot_uid_prefix=["MKD-"]),
    Feed(name="rs-json", nation="RS", releasable_to=["RS"], source=["RS"], cap_sender=["alerts@mup.gov.rs"]),
])
RECEIVED = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)
BA, MK = "feed:ba-tak", "feed:mk-tak"


@pytest.fixture
def pipeline(client, keys, regions):
    return alert_pipeline(client, keys, regions, feeds=FEEDS, clock=lambda: RECEIVED)


def _reasons(client, keys) -> list[str]:
    return [fields[b"reason"].decode() for _, fields in client.xrange(keys.dead_letters)]


def test_alr001_a_listener_takes_no_json_cap_or_crisis_detail_so_none_can_claim_another_sender(pipeline, client,
                                                                                            keys):
    rs_alert = make_alert(source="RS", title="RS real")
    pipeline.process([("stream", payload(rs_alert))])
    cancel_json = make_alert(source="RS", msg_type="cancel", references=[rs_alert["id"]])
    cancel_cap = cap_xml(sender="alerts@mup.gov.rs", msg_type="Cancel")
    forged = StoredAlert(alert=decode_alert(payload(cancel_json)), placement=Placement(), received_at=RECEIVED,
                         lon=20.46, lat=44.81)
    crisis = event_bytes(forged, RECEIVED)  # our own detail/crisis extension, as a device could forge it
    assert b"<crisis" in crisis
    result = pipeline.process([(BA, payload(cancel_json)), (BA, cancel_cap.encode()), (BA, crisis)])
    assert not result.accepted and len(result.dead) == 3
    assert pipeline.store.get(rs_alert["id"]).status is Status.NEW
    reasons = _reasons(client, keys)
    assert sum("CoT only" in r for r in reasons) == 2, reasons  # JSON and CAP
    assert "marker report" in reasons[2]  # the forged event is decoded by its own type: a map marker
    assert json.loads(payload(cancel_json))["source"] == "RS"


def test_alr002_another_nations_device_can_neither_cancel_nor_take_a_ba_emergency(pipeline):
    ba_911 = cot_event(uid="BIH-C1-9-1-1", callsign="BIH Bravo").encode()
    mk_cancel = cot_event(cot_type="b-a-o-can", uid="BIH-C1-9-1-1").encode()
    pipeline.process([(BA, ba_911)])
    pipeline.process([(MK, mk_cancel)])  # on the MK listener, with BA's uid
    ba = pipeline.store.get("BIH-C1-9-1-1")
    assert ba.status is Status.NEW and ba.routing.nation == "BA"
    pipeline.process([(BA, mk_cancel)])  # BA's own device cancels it
    assert pipeline.store.get("BIH-C1-9-1-1").status is Status.CANCELLED


def test_alr003_an_emergency_uid_taken_first_on_another_listener_does_not_swallow_the_real_one(pipeline):
    squat = cot_event(uid="BIH-D1-9-1-1", lat="41.99", lon="21.43").encode()  # Skopje, on the MK listener
    real = cot_event(uid="BIH-D1-9-1-1").encode()
    first = pipeline.process([(MK, squat)])
    second = pipeline.process([(BA, real)])
    assert len(first.accepted) == 1 and len(second.accepted) == 1 and not second.duplicates
    by_nation = {a.routing.nation: a for a in first.accepted + second.accepted}
    assert set(by_nation) == {"MK", "BA"} and by_nation["MK"].id != by_nation["BA"].id
    assert pipeline.process([(BA, real)]).duplicates == [by_nation["BA"].id]  # BA's repeat is BA's alert


def test_alr004_the_internal_stream_keeps_every_format(pipeline):
    result = pipeline.process([("stream", payload(make_alert(source="RS"))),
                               ("stream", cap_xml(sender="alerts@mup.gov.rs").encode())])
    assert len(result.accepted) == 2 and not result.dead


FUTURE = "2024-05-03T10:00:00.000Z"  # two days ahead of RECEIVED


@pytest.mark.parametrize("cot_type", ["b-a-o-can", "b-a-o-tbl"])
def test_alr005_a_cot_event_dated_beyond_the_clock_skew_is_refused_so_it_can_hold_or_cancel_nothing(
        pipeline, client, keys, cot_type):
    early = cot_event(cot_type=cot_type, uid="BIH-F1-9-1-1", time=FUTURE).encode()
    assert not pipeline.process([(BA, early)]).accepted
    assert "ahead of the centre's clock" in _reasons(client, keys)[0]
    real = pipeline.process([(BA, cot_event(uid="BIH-F1-9-1-1", callsign="BIH real").encode())])
    (alert,) = real.accepted
    assert alert.status is Status.NEW and alert.alert.model_extra["callsign"] == "BIH real"


def test_alr006_a_relayed_emergency_and_its_cancel_meet_whatever_feed_each_was_recognised_as(client, keys, regions):
    relay = Feed(name="regional-tak", nation="HR", releasable_to=["HR"], cot_uid_prefix=["HRV-"], relay=True)
    feeds = FeedRegistry([*FEEDS.feeds, Feed(name="ba-callsigns", nation="BA", releasable_to=["BA"],
                                             cot_callsign_prefix=["BIH "]), relay])
    pipeline = alert_pipeline(client, keys, regions, feeds=feeds, clock=lambda: RECEIVED)
    emergency = cot_event(uid="ANDROID-abc-9-1-1", callsign="BIH Alpha").encode()
    cancel = cot_event(cot_type="b-a-o-can", uid="ANDROID-abc-9-1-1", callsign=None).encode()  # no contact
    (raised,) = pipeline.process([("feed:regional-tak", emergency)]).accepted
    assert raised.routing.nation == "BA"
    pipeline.process([("feed:regional-tak", cancel)])
    assert pipeline.store.get(raised.id).status is Status.CANCELLED


def test_alr007_a_registered_devices_report_is_one_alert_whichever_way_it_came(pipeline):
    report = cot_event(uid="BIH-W1-9-1-1").encode()
    (first,) = pipeline.process([(BA, report)]).accepted
    assert pipeline.process([("stream", report)]).duplicates == [first.id]
    pipeline.process([("stream", cot_event(cot_type="b-a-o-can", uid="BIH-W1-9-1-1").encode())])
    assert pipeline.store.get(first.id).status is Status.CANCELLED


def _relayed_pipeline(client, keys, regions, relayed_by: str | None):
    feeds = FeedRegistry([Feed(name="ba-tak", nation="BA", releasable_to=["BA"], cot_uid_prefix=["BIH-"],
                               relayed_by=relayed_by),
                          Feed(name="tak-server", nation="HR", releasable_to=["HR"], cot_uid_prefix=["HRV-"],
                               relay=True),
                          Feed(name="mk-tak", nation="MK", releasable_to=["MK"], cot_uid_prefix=["MKD-"])])
    return alert_pipeline(client, keys, regions, feeds=feeds, clock=lambda: RECEIVED)


@pytest.mark.parametrize("cancelled_on", ["feed:ba-tak", "feed:tak-server"])
def test_alr008_an_emergency_sent_directly_and_through_the_tak_server_it_is_relayed_by_is_one_alert(
        client, keys, regions, cancelled_on):
    """A device on the BA listener and on the TAK server: ``relayed_by`` makes its uid one identity both ways in."""
    pipeline = _relayed_pipeline(client, keys, regions, relayed_by="tak-server")
    emergency = cot_event(uid="BIH-R1-9-1-1", callsign="BIH Relay").encode()
    (raised,) = pipeline.process([("feed:ba-tak", emergency)]).accepted
    assert pipeline.process([("feed:tak-server", emergency)]).duplicates == [raised.id]
    pipeline.process([(cancelled_on, cot_event(cot_type="b-a-o-can", uid="BIH-R1-9-1-1").encode())])
    assert pipeline.store.get(raised.id).status is Status.CANCELLED
    assert len(list(pipeline.store.all_alerts())) == 2  # the emergency and its cancel: no second alert


def test_alr009_without_relayed_by_each_way_in_stays_its_own_scope(client, keys, regions):
    """The rule ``relayed_by`` relaxes: a relay's device cannot cancel what arrived on a listener of its own."""
    pipeline = _relayed_pipeline(client, keys, regions, relayed_by=None)
    (raised,) = pipeline.process([("feed:ba-tak", cot_event(uid="BIH-R2-9-1-1").encode())]).accepted
    pipeline.process([("feed:tak-server", cot_event(cot_type="b-a-o-can", uid="BIH-R2-9-1-1").encode())])
    assert pipeline.store.get(raised.id).status is Status.NEW
    pipeline.process([("feed:mk-tak", cot_event(cot_type="b-a-o-can", uid="BIH-R2-9-1-1").encode())])
    assert pipeline.store.get(raised.id).status is Status.NEW
