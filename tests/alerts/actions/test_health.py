"""The health check against a real Redis: workers that stop beating, work left pending, inboxes nobody reads."""
from __future__ import annotations

import threading
import time

from alerts.actions.health import check
from alerts.store.heartbeats import Heartbeat
from alerts.store.producer import send_to_stream
from tests.conftest import alert_pipeline, make_alert, payload, stream_ingest, wait_for


def test_hlt001_a_running_worker_is_healthy_and_a_silent_one_is_named(client, keys, regions):
    heartbeat = Heartbeat(client, keys, "host/1/ingest-stream", keys.inbox)
    worker = stream_ingest(alert_pipeline(client, keys, regions), block_ms=100, heartbeat=heartbeat)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: check(client, keys, time.time)["workers"], what="the first heartbeat")
        report = check(client, keys, time.time)
        assert report["status"] == "ok" and report["reasons"] == []
        later = check(client, keys, lambda: time.time() + 60)  # as seen a minute from now, had it died
        assert later["status"] == "degraded"
        assert any("host/1/ingest-stream" in r and "silent" in r for r in later["reasons"])
    finally:
        stop.set()
        thread.join(timeout=5)
    assert check(client, keys, time.time)["workers"] == {}  # a clean stop is not a dead worker


def test_hlt002_work_pending_too_long_and_an_inbox_nobody_reads_degrade_health(client, keys, regions):
    worker = stream_ingest(alert_pipeline(client, keys, regions), consumer="dies", block_ms=100)
    worker.ensure_group()
    send_to_stream(client, keys, [payload(make_alert()) for _ in range(3)])
    client.xreadgroup(keys.ingest_group, "dies", {keys.inbox: ">"}, count=1)  # delivered, then the consumer dies
    report = check(client, keys, time.time, stuck_after=-1.0)  # any pending entry counts as stuck here
    assert report["inboxes"]["alerts"]["pending"] == 1 and report["inboxes"]["alerts"]["lag"] == 2
    assert any("pending for" in r for r in report["reasons"])
    assert any("2 entries waiting and no live worker" in r for r in report["reasons"])


def test_hlt003_redis_down_is_a_reason_not_an_exception(keys):
    import redis

    report = check(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2), keys, time.time)
    assert report["status"] == "degraded" and report["reasons"][0].startswith("Redis unavailable")


def test_hlt004_a_worker_killed_and_restarted_makes_health_ok_again_while_a_real_stall_is_still_named(client, keys):
    clock = {"now": time.time()}
    killed = Heartbeat(client, keys, "ingest-h/100/ingest-stream", keys.inbox, clock=lambda: clock["now"])
    killed.beat()  # then SIGKILL: no clean stop, the entry stays
    clock["now"] += 60
    report = check(client, keys, lambda: clock["now"])
    assert report["status"] == "degraded" and "worker ingest-h/100/ingest-stream silent" in report["reasons"][0]
    Heartbeat(client, keys, "ingest-h/200/ingest-stream", keys.inbox, clock=lambda: clock["now"]).beat()
    report = check(client, keys, lambda: clock["now"])  # the restart replaced the killed run's entry
    assert (report["status"], report["reasons"]) == ("ok", []) and list(report["workers"]) == [
        "ingest-h/200/ingest-stream"]
    # Another host's worker that stops beating is a real stall, reported until it is a day old.
    Heartbeat(client, keys, "ingest-other/300/ingest-stream", keys.inbox, clock=lambda: clock["now"]).beat()
    clock["now"] += 60
    Heartbeat(client, keys, "ingest-h/201/ingest-stream", keys.inbox, clock=lambda: clock["now"]).beat()
    reasons = check(client, keys, lambda: clock["now"])["reasons"]
    assert any("ingest-other/300/ingest-stream silent" in r for r in reasons)
    assert not any("ingest-h/200" in r for r in reasons)


def test_hlt005_duplicates_and_dead_letters_are_counted_in_the_workers_health_figures(client, keys, regions):
    heartbeat = Heartbeat(client, keys, "host/1/ingest-stream", keys.inbox)
    worker = stream_ingest(alert_pipeline(client, keys, regions), block_ms=100, heartbeat=heartbeat)
    alerts = [payload(make_alert()) for _ in range(3)]
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: check(client, keys, time.time)["workers"], what="the first heartbeat")
        send_to_stream(client, keys, alerts + alerts[:2] + [b"not an alert"])

        def counts():
            figures = check(client, keys, time.time)["workers"]["host/1/ingest-stream"].get("counts", {})
            return figures if sum(figures.values()) == 6 else None

        assert wait_for(counts, what="the counts of six messages") == {"stored": 3, "duplicates": 2,
                                                                       "dead_letters": 1}
    finally:
        stop.set()
        thread.join(timeout=5)


def test_hlt005_health_names_who_holds_each_job_lease(client, keys):
    from alerts.store.lease import Lease

    assert check(client, keys, time.time)["leases"] == {"escalation": None, "exercises": None}
    lease = Lease(client, keys.lease("escalation"), keys.fencing("escalation"), ttl_ms=10_000, token="host/42/ab")
    fence = lease.hold()
    assert check(client, keys, time.time)["leases"]["escalation"] == {"fencing": fence.number, "holder": "host/42/ab"}
