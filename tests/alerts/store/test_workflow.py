"""Checklist instances on real Redis: exactly one per alert, however many ingest workers race."""
from __future__ import annotations

import threading

import redis

from alerts.core.checklists import Templates
from alerts.core.model import AlertType
from alerts.store.producer import send_to_stream
from alerts.store.alerts import AlertStore
from alerts.store.workflow import WorkflowStore
from tests.conftest import ROOT, alert_pipeline, make_alert, mark, payload, stream_ingest, wait_for

TEMPLATES = Templates.load(ROOT / "checklists")


def _worker(redis_url, keys, regions, consumer: str, created: list[str]):
    client = redis.Redis.from_url(redis_url)  # each worker its own connection, as in separate processes
    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, TEMPLATES)

    def hook(alerts):
        created.extend(workflow.open_checklists(alerts))

    return stream_ingest(alert_pipeline(client, keys, regions, store=store, on_recorded=hook), consumer=consumer, batch=7,
                        block_ms=100)


def test_wfw001_two_ingest_workers_open_one_checklist_per_alert(redis_url, client, keys, regions):
    alerts = [make_alert(type=list(AlertType)[i % len(AlertType)].value,
                         severity=["critical", "high", "medium", "low"][i % 4]) for i in range(120)]
    # Every alert twice (a producer retry), so both workers see the same ids.
    send_to_stream(client, keys, [payload(a) for a in alerts] + [payload(a) for a in reversed(alerts)])
    created: list[str] = []
    # Each worker its own region index, as separate processes would have: GEOS prepared
    # geometries are not safe to query from two threads at once.
    from alerts.core.geography import RegionIndex

    workers = [_worker(redis_url, keys, regions, "worker-a", created),
               _worker(redis_url, keys, RegionIndex.from_assets(ROOT / "assets"), "worker-b", created)]
    workers[0].ensure_group()
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: client.xpending(keys.inbox, keys.ingest_group)["pending"] == 0
                 and client.xinfo_groups(keys.inbox)[0]["entries-read"] == 2 * len(alerts),
                 what="both workers to drain the inbox")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    consumers = {c["name"].decode(): c for c in client.xinfo_consumers(keys.inbox, keys.ingest_group)}
    assert set(consumers) == {"worker-a", "worker-b"}

    ids = [a["id"] for a in alerts]
    assert sorted(created) == sorted(ids)  # each created exactly once, by one worker or the other
    assert len(list(client.scan_iter(match=keys.checklist("*")))) == len(alerts)
    assert {m.decode() for m in client.smembers(keys.open_cases)} == set(ids)
    workflow = WorkflowStore(client, keys, AlertStore(client, keys), TEMPLATES)
    states = workflow.states(ids)
    store = AlertStore(client, keys)
    for stored in store.get_many(ids):
        assert [(s.title, s.due_at) for s in states[stored.id].steps] == [
            (s.title, s.due_at) for s in TEMPLATES.checklist_for(stored)]


def test_wfw002_replaying_an_alert_keeps_its_first_checklist(client, keys, regions):
    workflow = WorkflowStore(client, keys, AlertStore(client, keys), TEMPLATES)
    pipeline = alert_pipeline(client, keys, regions, on_recorded=workflow.open_checklists)
    alert = make_alert(severity="critical")
    first = pipeline.process([("stream", payload(alert))]).accepted[0]
    pipeline.process([("stream", payload(alert))])  # replay: the hook runs again
    state = workflow.state(alert["id"])
    assert state.received_at == first.received_at
    assert [s.due_at for s in state.steps] == [s.due_at for s in TEMPLATES.checklist_for(first)]
    cancel = make_alert(msg_type="cancel", references=[alert["id"]])
    pipeline.process([("stream", payload(cancel))])
    assert workflow.state(cancel["id"]) is None  # a cancellation is not worked


def test_wfw003_status_only_moves_forward(client, keys, regions):
    from alerts.core.model import Status

    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, TEMPLATES)
    pipeline = alert_pipeline(client, keys, regions, store=store, on_recorded=workflow.open_checklists)
    alert = make_alert()
    pipeline.process([("stream", payload(alert))])
    first, _ = workflow.acknowledge(alert["id"], mark("a"))
    assert workflow.mark_step(alert["id"], 1, mark("b", note="ok")) is None
    assert first and store.get(alert["id"]).status == Status.IN_PROGRESS
    assert workflow.advance_status(alert["id"], Status.ACKNOWLEDGED) is None
    assert store.get(alert["id"]).status == Status.IN_PROGRESS
    assert workflow.resolve(alert["id"], mark("c")) is None
    assert workflow.resolve(alert["id"], mark("d")).by == "c"  # the first resolution stands
    assert store.get(alert["id"]).status == Status.RESOLVED
    assert alert["id"].encode() not in client.smembers(keys.open_cases)
