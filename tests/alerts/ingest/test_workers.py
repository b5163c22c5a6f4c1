"""Ingest against a real Redis: the pipeline, the inbox stream (consumer group) and pub/sub."""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
import redis

from alerts.core.events import ALERT_CREATED
from alerts.core.model import Status
from alerts.store.producer import send_to_channel, send_to_stream
from alerts.store.alerts import AlertStore
from tests.conftest import alert_pipeline, channel_ingest, make_alert, payload, stream_ingest, wait_for

FIXED = datetime(2031, 6, 7, 8, 9, 10, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


def new_pipeline(client, keys, regions) :
    return alert_pipeline(client, keys, regions, clock=fixed_clock)


@pytest.fixture
def pipeline(client, keys, regions) :
    return new_pipeline(client, keys, regions)


def dead_letters(client, keys) -> list[dict[str, bytes]]:
    return [{k.decode(): v for k, v in fields.items()} for _, fields in client.xrange(keys.dead_letters)]


def pending(client, keys, consumer: str | None = None) -> int:
    if consumer is None:
        return client.xpending(keys.inbox, keys.ingest_group)["pending"]
    rows = client.xpending_range(keys.inbox, keys.ingest_group, "-", "+", 10_000, consumername=consumer)
    return len(rows)


def stored_ids(client, keys) -> set[str]:
    prefix = keys.alert("")
    return {k.decode()[len(prefix):] for k in client.scan_iter(match=keys.alert_pattern, count=1000)}


# --- IngestPipeline ------------------------------------------------------------------


def test_ing001_mix_of_good_duplicate_and_bad_payloads(pipeline, client, keys):
    good = [make_alert(), make_alert(location={"lat": 44.82, "lon": 20.47}, source="RS")]
    bad = [
        (b"{not json", "not JSON"),
        (json.dumps([1, 2]).encode(), "not a JSON object"),
        (payload(make_alert(severity="apocalyptic")), "severity"),
        (b"\xff\xfe\x00\x01", "not UTF-8"),
    ]
    after_bad = make_alert()
    batch = [
        ("stream", payload(good[0])),
        ("stream", payload(good[1])),
        ("stream", payload(good[0])),  # duplicate id in the same batch
        *[("channel", raw) for raw, _ in bad],
        ("stream", payload(after_bad)),
    ]
    result = pipeline.process(batch)
    assert sorted(a.id for a in result.accepted) == sorted([good[0]["id"], good[1]["id"], after_bad["id"]])
    assert result.duplicates == [good[0]["id"]]
    assert len(result.dead) == len(bad)
    for (via, reason), (_, expected) in zip(result.dead, bad):
        assert via == "channel" and expected in reason

    letters = dead_letters(client, keys)
    assert [d["payload"] for d in letters] == [raw for raw, _ in bad]
    for letter, (_, expected) in zip(letters, bad):
        assert expected in letter["reason"].decode()
        assert letter["via"] == b"channel"
        assert letter["at"].decode() == FIXED.isoformat()

    assert stored_ids(client, keys) == {good[0]["id"], good[1]["id"], after_bad["id"]}
    assert client.xlen(keys.events) == 3
    belgrade = pipeline.store.get(good[1]["id"])
    assert belgrade.placement.country == "RS" and belgrade.received_at == FIXED


def test_ing002_a_good_payload_after_a_batch_of_only_bad_ones_goes_through(pipeline, client, keys):
    first = pipeline.process([("channel", b""), ("channel", b"<<<"), ("channel", b"\x00" * 10)])
    assert first.accepted == [] and first.duplicates == [] and len(first.dead) == 3
    alert = make_alert()
    second = pipeline.process([("channel", payload(alert))])
    assert [a.id for a in second.accepted] == [alert["id"]] and second.dead == []
    assert pipeline.store.get(alert["id"]) is not None
    assert client.xlen(keys.dead_letters) == 3


def test_ing003_pipeline_places_and_stamps_alerts(pipeline):
    cancel = make_alert(msg_type="cancel")
    area = make_alert(
        location=None,
        area={"type": "Polygon", "coordinates": [[[20.4, 41.7], [21.4, 41.7], [21.4, 42.4], [20.4, 42.4], [20.4, 41.7]]]},
    )
    result = pipeline.process([("stream", payload(cancel)), ("stream", payload(area))])
    by_id = {a.id: a for a in result.accepted}
    assert by_id[cancel["id"]].status is Status.CANCELLED
    assert by_id[cancel["id"]].placement.country == "MK"
    assert set(by_id[area["id"]].placement.countries) == {"MK", "XK", "AL"}
    assert all(a.received_at == FIXED for a in result.accepted)


NAN_AREA = json.dumps(
    make_alert(
        location=None,
        area={"type": "Polygon", "coordinates": [[[20.0, 41.0], [21.0, float("nan")], [21.0, 42.0], [20.0, 41.0]]]},
    )
).encode()


def nested_extra(depth: int) -> bytes:
    return payload(make_alert()).rstrip(b"}") + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize(
    "poison",
    [NAN_AREA, nested_extra(200), nested_extra(300)],
    ids=["nan-in-area", "nested-200", "nested-300"],
)
def test_ing004_one_poison_payload_neither_stops_the_batch_nor_breaks_readers(pipeline, client, keys, poison):
    before, after = make_alert(), make_alert()
    result = pipeline.process([("stream", payload(before)), ("stream", poison), ("stream", payload(after))])
    accepted = {a.id for a in result.accepted}
    assert {before["id"], after["id"]} <= accepted
    assert len(accepted) + len(result.dead) == 3  # the poison is stored or dead-lettered, never lost
    # Whatever was stored can be read back by every reader.
    assert {s.id for s in pipeline.store.all_alerts()} == accepted
    assert len(pipeline.store.events_since("0-0")) == len(accepted)


# --- StreamIngest --------------------------------------------------------------------


def test_ing010_stream_entries_are_acked_after_storing(pipeline, client, keys):
    worker = stream_ingest(pipeline, consumer="c1", block_ms=100)
    worker.ensure_group()
    worker.ensure_group()  # idempotent
    alerts = [make_alert() for _ in range(5)]
    send_to_stream(client, keys, [payload(a) for a in alerts] + [b"junk"])
    assert worker.run_once() == 6
    assert pending(client, keys) == 0
    assert stored_ids(client, keys) == {a["id"] for a in alerts}
    assert [d["payload"] for d in dead_letters(client, keys)] == [b"junk"]
    assert worker.run_once(block_ms=10) == 0


class FailingStore(AlertStore):
    def record_encoded(self, alerts):
        raise redis.ConnectionError("simulated: Redis went away while storing")


def test_ing011_entries_are_not_acked_when_storing_fails(client, keys, regions):
    broken = alert_pipeline(client, keys, regions, store=FailingStore(client, keys), clock=fixed_clock)
    worker = stream_ingest(broken, consumer="c1", block_ms=100)
    worker.ensure_group()
    alerts = [make_alert() for _ in range(3)]
    send_to_stream(client, keys, [payload(a) for a in alerts])
    with pytest.raises(redis.ConnectionError):
        worker.run_once()
    assert pending(client, keys, "c1") == 3  # still owed: nothing was acked
    assert stored_ids(client, keys) == set()

    healthy = stream_ingest(new_pipeline(client, keys, regions), consumer="c1", block_ms=100)
    assert healthy.recover() == 3
    assert pending(client, keys) == 0
    assert stored_ids(client, keys) == {a["id"] for a in alerts}


def test_ing012_stream_entry_without_payload_field_is_dead_lettered(pipeline, client, keys):
    worker = stream_ingest(pipeline, consumer="c1", block_ms=100)
    worker.ensure_group()
    good = make_alert()
    client.xadd(keys.inbox, {"data": "hello", "kind": "x"})
    send_to_stream(client, keys, [payload(good)])
    assert worker.run_once() == 2
    assert pending(client, keys) == 0
    (letter,) = dead_letters(client, keys)
    reason = letter["reason"].decode()
    assert "no 'payload' field" in reason and "data" in reason and "kind" in reason
    assert b"hello" in letter["payload"]
    assert letter["via"] == b"stream"
    assert stored_ids(client, keys) == {good["id"]}


def test_ing013_killed_worker_recovers_its_own_pending_entries(client, keys, regions):
    stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a").ensure_group()
    alerts = [make_alert() for _ in range(4)]
    send_to_stream(client, keys, [payload(a) for a in alerts])
    # The worker reads its batch and is killed before it stores or acks anything.
    reply = client.xreadgroup(keys.ingest_group, "worker-a", {keys.inbox: ">"}, count=100)
    assert len(reply[0][1]) == 4
    assert pending(client, keys, "worker-a") == 4
    assert stored_ids(client, keys) == set()

    restarted = stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a", claim_idle_ms=60_000)
    assert restarted.recover() == 4
    assert pending(client, keys) == 0
    assert stored_ids(client, keys) == {a["id"] for a in alerts}
    assert restarted.recover() == 0


def test_ing014_other_worker_claims_pending_entries_of_a_dead_one(client, keys, regions):
    stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a").ensure_group()
    alerts = [make_alert() for _ in range(3)]
    send_to_stream(client, keys, [payload(a) for a in alerts])
    client.xreadgroup(keys.ingest_group, "worker-a", {keys.inbox: ">"}, count=100)  # then dies
    assert pending(client, keys, "worker-a") == 3

    other = stream_ingest(new_pipeline(client, keys, regions), consumer="worker-b", claim_idle_ms=0)
    assert other.recover() == 3
    assert pending(client, keys) == 0
    assert pending(client, keys, "worker-a") == 0
    assert stored_ids(client, keys) == {a["id"] for a in alerts}


def test_ing015_replayed_entry_after_a_crash_is_a_duplicate_not_a_second_alert(client, keys, regions):
    pipeline = new_pipeline(client, keys, regions)
    worker = stream_ingest(pipeline, consumer="worker-a")
    worker.ensure_group()
    alert = make_alert()
    send_to_stream(client, keys, [payload(alert)])
    reply = client.xreadgroup(keys.ingest_group, "worker-a", {keys.inbox: ">"}, count=10)
    # Stored, then killed before XACK.
    pipeline.process([("stream", reply[0][1][0][1][b"payload"])])
    assert worker.recover() == 1
    assert pending(client, keys) == 0
    assert client.xlen(keys.events) == 1
    assert stored_ids(client, keys) == {alert["id"]}


def test_ing016_recover_pages_through_more_pending_entries_than_one_batch(client, keys, regions):
    stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a").ensure_group()
    alerts = [make_alert() for _ in range(23)]
    send_to_stream(client, keys, [payload(a) for a in alerts])
    client.xreadgroup(keys.ingest_group, "worker-a", {keys.inbox: ">"}, count=100)
    client.xreadgroup(keys.ingest_group, "worker-b", {keys.inbox: "0"}, count=100)  # nothing new for b
    restarted = stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a", batch=5)
    assert restarted.recover() == 23
    assert pending(client, keys) == 0
    assert stored_ids(client, keys) == {a["id"] for a in alerts}


def test_ing017_recover_survives_a_pending_entry_trimmed_from_the_stream(client, keys, regions):
    stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a").ensure_group()
    lost, kept = make_alert(), make_alert()
    lost_id, _ = send_to_stream(client, keys, [payload(lost), payload(kept)])
    client.xreadgroup(keys.ingest_group, "worker-a", {keys.inbox: ">"}, count=10)  # then dies
    client.xdel(keys.inbox, lost_id)  # trimmed away while pending
    restarted = stream_ingest(new_pipeline(client, keys, regions), consumer="worker-a")
    assert restarted.recover() == 2
    assert pending(client, keys) == 0
    assert stored_ids(client, keys) == {kept["id"]}
    (letter,) = dead_letters(client, keys)  # the vanished entry is accounted for, not silently dropped
    assert letter["via"] == b"stream" and letter["reason"]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_ing019_poison_entry_is_dead_lettered_and_acked_not_left_to_kill_the_worker(pipeline, client, keys):
    worker = stream_ingest(pipeline, consumer="c1", block_ms=100)
    worker.ensure_group()
    good = make_alert()
    send_to_stream(client, keys, [NAN_AREA, payload(good)])
    assert worker.run_once() == 2
    assert pending(client, keys) == 0
    assert pipeline.store.get(good["id"]) is not None
    assert [d["payload"] for d in dead_letters(client, keys)] == [NAN_AREA]


def test_ing018_two_workers_on_one_stream_store_each_id_exactly_once(redis_url, client, keys, regions):
    alerts = [make_alert() for _ in range(120)]
    raws = [payload(a) for a in alerts]
    entries = raws + raws[::3]  # every third alert is sent twice
    stream_ingest(new_pipeline(client, keys, regions), consumer="w0").ensure_group()
    send_to_stream(client, keys, entries)

    stop = threading.Event()
    handled = {"w1": 0, "w2": 0}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        own = redis.Redis.from_url(redis_url)
        try:
            worker = stream_ingest(new_pipeline(own, keys, regions), consumer=name, batch=7, block_ms=50)
            while not stop.is_set():
                handled[name] += worker.run_once()
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in handled]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: errors or sum(handled.values()) >= len(entries), what="both workers to drain the inbox")
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert not errors, errors
    assert sum(handled.values()) == len(entries)
    assert pending(client, keys) == 0
    assert stored_ids(client, keys) == {a["id"] for a in alerts}
    events = client.xrange(keys.events)
    assert len(events) == len(alerts)
    assert {f[b"kind"] for _, f in events} == {ALERT_CREATED.encode()}
    assert client.xlen(keys.dead_letters) == 0


class HeldPipeline:
    """A pipeline whose ``process`` waits until the test lets it go (a batch that takes long to handle)."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name):
        return getattr(self.pipeline, name)

    def process(self, payloads):
        self.entered.set()
        assert self.release.wait(30), "the test never released the batch"
        return self.pipeline.process(payloads)


def test_ing022_a_batch_handled_longer_than_the_claim_idle_time_is_not_claimed_and_handled_twice(
        client, keys, regions):
    claim_idle_ms = 200
    held = HeldPipeline(new_pipeline(client, keys, regions))
    slow = stream_ingest(held, consumer="slow", claim_idle_ms=claim_idle_ms)
    slow.ensure_group()
    good = make_alert()
    send_to_stream(client, keys, [payload(good), b"not an alert"])
    thread = threading.Thread(target=slow.run_once, kwargs={"block_ms": 100}, daemon=True)
    thread.start()
    try:
        assert held.entered.wait(10)
        entered = time.monotonic()
        wait_for(lambda: time.monotonic() - entered > 3 * claim_idle_ms / 1000, what="three claim idle times")
        neighbour = stream_ingest(new_pipeline(client, keys, regions), consumer="neighbour",
                                  claim_idle_ms=claim_idle_ms)
        assert neighbour.recover() == 0  # the slow worker still holds its batch
        assert pending(client, keys, "slow") == 2
    finally:
        held.release.set()
        thread.join(10)
    assert pending(client, keys) == 0
    assert client.xlen(keys.events) == 1 and stored_ids(client, keys) == {good["id"]}
    assert [d["payload"] for d in dead_letters(client, keys)] == [b"not an alert"]  # dead-lettered once

# --- PubSubIngest --------------------------------------------------------------------


def test_ing020_pubsub_ingest_stores_published_alert(client, keys, regions):
    subscriber = channel_ingest(new_pipeline(client, keys, regions))
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(
            lambda: dict(client.pubsub_numsub(keys.alerts_channel)).get(keys.alerts_channel.encode()) == 1,
            what="the ingest subscription",
        )
        alert = make_alert(source="AL", location={"lat": 41.3275, "lon": 19.8189})
        assert send_to_channel(client, keys, [b"not an alert", payload(alert)]) == 1
        stored = wait_for(lambda: subscriber.pipeline.store.get(alert["id"]), what="the published alert to be stored")
        assert stored.received_at == FIXED
        assert stored.placement.country == "AL"
        assert stored.alert.source == "AL"
        letters = wait_for(lambda: dead_letters(client, keys), what="the dead letter")
        assert letters[0]["payload"] == b"not an alert" and letters[0]["via"] == b"channel"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert not subscriber.subscribed.is_set()


def test_ing021_injected_clock_sets_received_at(client, keys, regions):
    moments = iter([datetime(2029, 1, 1, tzinfo=UTC), datetime(2029, 1, 2, tzinfo=UTC)])
    clock_time = {"now": None}

    def clock() -> datetime:
        clock_time["now"] = next(moments)
        return clock_time["now"]

    pipeline = alert_pipeline(client, keys, regions, clock=clock)
    first, second = make_alert(), make_alert()
    pipeline.process([("stream", payload(first))])
    pipeline.process([("stream", payload(second))])
    assert pipeline.store.get(first["id"]).received_at == datetime(2029, 1, 1, tzinfo=UTC)
    assert pipeline.store.get(second["id"]).received_at == datetime(2029, 1, 2, tzinfo=UTC)
