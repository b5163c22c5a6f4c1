"""A batch is recorded in chunks (``AlertPipeline.RECORD_CHUNK``), one recorded while the next is prepared: it must
end exactly as the same batch recorded in one call, to the order of its dead letters and events."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from alerts.store.keys import Keys
from tests.conftest import alert_pipeline, make_alert, payload

RECEIVED = datetime(2024, 5, 1, 10, 1, tzinfo=UTC)


def _outcome(client, keys: Keys, result) -> tuple:
    events = [(fields[b"kind"], json.loads(fields[b"alert"])["key"], json.loads(fields[b"alert"])["status"])
              for _, fields in client.xrange(keys.events)]
    letters = [(fields[b"via"], fields[b"reason"]) for _, fields in client.xrange(keys.dead_letters)]
    return [a.id for a in result.accepted], result.duplicates, result.dead, events, letters


def test_chk001_a_batch_recorded_in_chunks_ends_exactly_as_one_recorded_whole(client, keys, regions):
    rs = [make_alert(source="RS", title=f"RS {n}") for n in range(4)]
    batch = [
        ("stream", b"not json"),  # refused by the decoder
        ("stream", payload(rs[0])),
        ("stream", payload(make_alert(source="MK", tlp="PURPLE"))),  # markings that cannot be honoured
        ("stream", payload(rs[1])),
        ("stream", payload(rs[0])),  # a duplicate of an alert of an earlier chunk
        ("stream", payload(make_alert(note="lone \udc00 surrogate"))),  # cannot be stored
        ("stream", payload(make_alert(source="BA", id=rs[1]["id"]))),  # another producer's id: a suffixed key
        ("stream", payload(make_alert(source="RS", msg_type="cancel", references=[rs[2]["id"]]))),  # before its alert
        ("stream", payload(rs[2])),
        ("stream", b"{}"),  # refused by validation
        ("stream", payload(rs[3])),
        ("stream", payload(make_alert(source="MK", classification="COSMIC TOP SECRET"))),
    ]
    outcomes = {}
    for chunk in (2, 3, 1000):
        chunk_keys = Keys(f"{keys.prefix}:chunk{chunk}")
        pipeline = alert_pipeline(client, chunk_keys, regions, clock=lambda: RECEIVED)
        pipeline.RECORD_CHUNK = chunk
        outcomes[chunk] = _outcome(client, chunk_keys, pipeline.process(batch))
    assert outcomes[2] == outcomes[3] == outcomes[1000]
    accepted, duplicates, dead, events, letters = outcomes[2]
    assert len(accepted) == 6 and duplicates == [rs[0]["id"]] and len(dead) == len(letters) == 5
    # each step's refusals in arrival order, the steps in their order (decoding, routing, serialising)
    assert [reason.split(":")[0] for _, reason in dead][1:] == ["invalid alert", "markings cannot be honoured",
                                                                 "markings cannot be honoured", "cannot be stored"]
    assert (b"alert.updated", rs[2]["id"], "cancelled") in events
