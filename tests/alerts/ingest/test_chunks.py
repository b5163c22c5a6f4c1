"""A batch is recorded in chunks (``AlertPipeline.RECORD_CHUNK``), each call sent before the next chunk is prepared
and read after: it must end exactly as the same batch recorded in one call, to the order of its dead letters and
events."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from alerts.store import identities
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


def test_chk002_a_recording_sent_ahead_before_redis_holds_the_script_is_loaded_and_run(client, keys, regions):
    """The call sent ahead names the script by its SHA-1; a server that does not hold it (restarted, flushed) answers
    NOSCRIPT, and the alerts are recorded through the script, which loads it."""
    pipeline = alert_pipeline(client, keys, regions, clock=lambda: RECEIVED)
    pipeline.RECORD_CHUNK = 2
    pipeline.store._record = client.register_script(f"{identities.RECORD}\n-- never loaded {uuid.uuid4().hex}")
    alerts = [make_alert(source="RS") for _ in range(5)]
    result = pipeline.process([("stream", payload(a)) for a in alerts])
    assert [a.id for a in result.accepted] == [a["id"] for a in alerts] and not result.dead
    assert client.xlen(keys.events) == 5


def test_chk003_a_store_that_records_its_own_way_records_every_chunk(client, keys, regions):
    """A store whose ``record_encoded`` is its own (here: counting calls) is never bypassed by sending ahead."""
    from alerts.store.alerts import AlertStore

    class Counting(AlertStore):
        calls = 0

        def record_encoded(self, items):
            Counting.calls += 1
            return super().record_encoded(items)

    pipeline = alert_pipeline(client, keys, regions, store=Counting(client, keys), clock=lambda: RECEIVED)
    pipeline.RECORD_CHUNK = 2
    assert len(pipeline.process([("stream", payload(make_alert())) for _ in range(5)]).accepted) == 5
    assert Counting.calls == 3
