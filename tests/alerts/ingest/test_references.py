"""CAP updates and cancels close the earlier alert, through the real ingest pipeline and Redis."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import redis

from alerts.core.model import Status
from tests.conftest import DATA, alert_pipeline, make_alert, payload

CAP = DATA / "cap"


def _pipeline(redis_url, keys, regions):
    return alert_pipeline(redis.Redis.from_url(redis_url), keys, regions)


def test_ref001_a_cancel_closes_the_alert_it_references(redis_url, keys, regions):
    pipeline = _pipeline(redis_url, keys, regions)
    first = make_alert(source="RS")
    cancel = make_alert(source="RS", msg_type="cancel", references=[first["id"]], title="Called off")
    pipeline.process([("t", payload(first))])
    pipeline.process([("t", payload(cancel))])
    earlier = pipeline.store.get(first["id"])
    assert earlier.status is Status.CANCELLED and earlier.superseded_by == cancel["id"]
    assert pipeline.store.get(cancel["id"]).status is Status.CANCELLED  # a cancel is not open work
    kinds = [f[b"kind"] for _, f in pipeline.store.client.xrange(keys.events)]
    assert kinds == [b"alert.created", b"alert.created", b"alert.updated"]


def test_ref002_an_update_replaces_the_earlier_alert(redis_url, keys, regions):
    pipeline = _pipeline(redis_url, keys, regions)
    first = make_alert(source="GR", severity="medium")
    update = make_alert(source="GR", msg_type="update", references=[first["id"]], severity="critical")
    pipeline.process([("t", payload(first)), ("t", payload(update))])
    assert pipeline.store.get(first["id"]).superseded_by == update["id"]
    assert pipeline.store.get(update["id"]).status is Status.NEW


def test_ref003_another_source_cannot_cancel(redis_url, keys, regions):
    pipeline = _pipeline(redis_url, keys, regions)
    first = make_alert(source="RS")
    pipeline.process([("t", payload(first)),
                      ("t", payload(make_alert(source="XK", msg_type="cancel", references=[first["id"]])))])
    assert pipeline.store.get(first["id"]).status is Status.NEW


def test_ref004_real_cap_update_and_cancel_messages_close_their_predecessors(redis_url, keys, regions):
    from alerts.formats.decode import decode_alert

    from tests.alerts.formats.test_cap import cap_xml

    pipeline = _pipeline(redis_url, keys, regions)
    update = decode_alert((CAP / "gcl_canada.cap").read_bytes())
    assert update.msg_type == "update" and update.references
    first, second = update.model_extra["cap_references"]
    # The earlier messages as their sender sent them (the second with another sending time: not the one named).
    pipeline.process([("cap", cap_xml(identifier=first["identifier"], sender=first["sender"], sent=first["sent"])),
                      ("cap", cap_xml(identifier=second["identifier"], sender=second["sender"],
                                      sent="2012-05-02T20:00:00-00:00"))])
    result = pipeline.process([("cap", (CAP / "gcl_canada.cap").read_bytes())])
    assert [a.id for a in result.accepted] == [update.id]
    assert pipeline.store.get(first["identifier"]).superseded_by == update.id
    assert pipeline.store.get(second["identifier"]).status is Status.NEW  # sent differs: another message


# --- CoT cancels and renewable emergencies ---------------------------------------------------------


def cot(cot_type: str, uid: str, at: datetime) -> bytes:
    """An ATAK emergency (or its cancel, ``b-a-o-can``, no ``<contact>``) on ``uid`` dated ``at``."""
    time, stale = at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), (at + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    contact = "" if cot_type == "b-a-o-can" else "<contact callsign='Bravo-2'/>"
    return (f"<event version='2.0' uid='{uid}' type='{cot_type}' time='{time}' start='{time}' stale='{stale}' "
            f"how='h-e'><point lat='44.81' lon='20.46' hae='0' ce='10' le='10'/><detail>{contact}"
            "<emergency type='911 Alert'>Bravo-2</emergency></detail></event>").encode()


def test_ref005_a_pending_cancel_never_closes_an_emergency_raised_after_it(client, keys, regions):
    now = datetime.now(UTC).replace(microsecond=0)
    pipeline = alert_pipeline(client, keys, regions)
    uid = f"ANDROID-{uuid.uuid4().hex[:8]}-9-1-1"
    pipeline.process([("tak", cot("b-a-o-can", uid, now - timedelta(hours=3)))])  # its emergency never came
    emergency = pipeline.process([("tak", cot("b-a-o-tbl", uid, now))]).accepted[0]
    assert pipeline.store.get(emergency.id).status is Status.NEW  # a new emergency on the reused uid
    assert client.hlen(keys.pending_refs) == 0  # the old cancel is spent, not kept for the next one


def test_ref006_a_late_cancel_dated_before_the_open_emergency_leaves_it_open(client, keys, regions):
    now = datetime.now(UTC).replace(microsecond=0)
    pipeline = alert_pipeline(client, keys, regions)
    uid = f"ANDROID-{uuid.uuid4().hex[:8]}-9-1-1"
    emergency = pipeline.process([("tak", cot("b-a-o-tbl", uid, now))]).accepted[0]
    pipeline.process([("tak", cot("b-a-o-can", uid, now - timedelta(hours=3)))])  # delayed, about an older one
    assert pipeline.store.get(emergency.id).status is Status.NEW
    pipeline.process([("tak", cot("b-a-o-can", uid, now + timedelta(minutes=1)))])
    assert pipeline.store.get(emergency.id).status is Status.CANCELLED


def test_ref007_a_pending_cancel_still_closes_the_emergency_it_was_about(client, keys, regions):
    now = datetime.now(UTC).replace(microsecond=0)
    pipeline = alert_pipeline(client, keys, regions)
    uid = f"ANDROID-{uuid.uuid4().hex[:8]}-9-1-1"
    pipeline.process([("tak", cot("b-a-o-can", uid, now))])
    emergency = pipeline.process([("tak", cot("b-a-o-tbl", uid, now - timedelta(minutes=2)))]).accepted[0]
    assert pipeline.store.get(emergency.id).status is Status.CANCELLED


def test_ref008_a_json_message_cannot_take_a_cap_senders_or_a_tak_devices_identity(client, keys, regions):
    from tests.alerts.formats.test_cap import cap_xml

    pipeline = alert_pipeline(client, keys, regions)
    sender, identifier = "civil-protection@gov.rs", f"RS-{uuid.uuid4().hex[:8]}"
    cap = pipeline.process([("cap", cap_xml(identifier=identifier, sender=sender).encode())]).accepted[0]
    uid = f"ANDROID-{uuid.uuid4().hex[:8]}-9-1-1"
    emergency = pipeline.process([("tak", cot("b-a-o-tbl", uid, datetime.now(UTC)))]).accepted[0]
    spoofs = [make_alert(source="XX", msg_type="cancel", references=[identifier], cap_status="Actual", sender=sender),
              make_alert(id=uid, source="XX", cot_type="b-a-o-can", msg_type="cancel", references=[uid]),
              make_alert(id=uid, source="XX", cot_type="b-a-o-tbl")]
    result = pipeline.process([("json", payload(spoof)) for spoof in spoofs])
    assert not result.accepted and not result.duplicates and len(result.dead) == 3
    assert all("reserved" in reason for _, reason in result.dead)
    assert pipeline.store.get(cap.id).status is Status.NEW
    assert pipeline.store.get(emergency.id).status is Status.NEW


def test_ref009_a_cap_cancel_naming_one_message_twice_is_compared_on_every_naming(client, keys, regions):
    from tests.alerts.formats.test_cap import cap_xml

    pipeline = alert_pipeline(client, keys, regions)
    sender, sent = "civil-protection@gov.rs", "2024-05-01T12:00:00+02:00"
    for n, references in enumerate([f"{sender},{{id}},2024-05-01T09:00:00+02:00 {sender},{{id}},{sent}",
                                    f"other@gov.mk,{{id}},2024-05-01T09:00:00+02:00 {sender},{{id}},{sent}",
                                    f"{sender},{{id}},2024-05-01T10:00:00Z"]):  # the same instant, another offset
        identifier = f"RS-{uuid.uuid4().hex[:8]}"
        original = pipeline.process([("cap", cap_xml(identifier=identifier, sender=sender, sent=sent).encode())])
        cancel = cap_xml(identifier=f"{identifier}-c{n}", sender=sender, sent="2024-05-01T12:30:00+02:00",
                         msg_type="Cancel", references=references.format(id=identifier))
        pipeline.process([("cap", cancel.encode())])
        assert pipeline.store.get(original.accepted[0].id).status is Status.CANCELLED, references


def test_ref010_a_cancel_with_more_references_than_the_limit_is_refused_and_flushes_no_pending_reference(
        client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions)
    waiting = make_alert(source="RS", msg_type="cancel", references=["RS-not-yet"])
    pipeline.process([("t", payload(waiting))])
    assert client.hlen(keys.pending_refs) == 1
    floods = [make_alert(source="XK", msg_type="cancel", references=[f"x-{n}-{i}" for i in range(60_000)])
              for n in range(2)]
    result = pipeline.process([("t", payload(flood)) for flood in floods])
    assert [reason for _, reason in result.dead] == [
        "invalid alert: references: 60000 given; at most 100 per message are accepted"] * 2
    assert client.hlen(keys.pending_refs) == 1  # RS's reference is still waiting for its alert
    target = pipeline.process([("t", payload(make_alert(id="RS-not-yet", source="RS")))]).accepted[0]
    assert pipeline.store.get(target.id).status is Status.CANCELLED
