"""CAP updates and cancels close the earlier alert, through the real ingest pipeline and Redis."""
from __future__ import annotations

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
