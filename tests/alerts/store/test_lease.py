"""The job lease on real Redis: one holder at a time, fencing numbers that only go up, renewal, release,
the holder's own view on an injected clock, and fenced writes refused once the lease is gone."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import redis

from alerts.actions.escalation import EscalationMonitor
from alerts.core.checklists import Templates
from alerts.core.escalation import EscalationPolicy, assess
from alerts.store.alerts import AlertStore
from alerts.store.audit import AuditLog
from alerts.store.lease import Lease, StaleFence, holder
from alerts.store.workflow import WorkflowStore
from tests.conftest import ROOT, alert_pipeline, make_alert, payload, wait_for

TEMPLATES = Templates.load(ROOT / "checklists")


def _lease(client, keys, name="escalation", **kwargs) -> Lease:
    return Lease(client, keys.lease(name), keys.fencing(name), **{"ttl_ms": 10_000, **kwargs})


def test_lea001_one_holder_renews_releases_and_the_next_gets_a_higher_number(client, keys):
    first, second = _lease(client, keys), _lease(client, keys)
    fence = first.hold()
    assert fence is not None and second.hold() is None
    assert first.hold() == fence  # renewed: the same grant
    assert holder(client, keys.lease("escalation")) == (fence.number, first.token)
    assert 9_000 < client.pttl(keys.lease("escalation")) <= 10_000
    assert first.release() and holder(client, keys.lease("escalation")) is None
    taken = second.hold()
    assert taken is not None and taken.number == fence.number + 1
    assert not first.release()  # not ours any more: the successor's lease stays
    assert holder(client, keys.lease("escalation")) == (taken.number, second.token)


def test_lea002_the_holder_stops_acting_on_its_own_clock(client, keys):
    now = [100.0]
    lease = _lease(client, keys, ttl_ms=10_000, margin=0.2, clock=lambda: now[0])
    fence = lease.hold()
    now[0] += 7.9
    assert lease.current() == fence
    now[0] += 0.2  # 8.1 s: past the lease less its margin, whatever Redis says
    assert lease.current() is None
    assert lease.hold() == fence and lease.current() == fence  # a renewal counts again from when it was sent


def test_lea003_a_holder_whose_lease_expired_cannot_escalate(client, keys, regions):
    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, TEMPLATES)
    pipeline = alert_pipeline(client, keys, regions, store=store, on_recorded=workflow.open_checklists)
    stale = _lease(client, keys, ttl_ms=200)
    monitor = EscalationMonitor(workflow, EscalationPolicy(), audit=AuditLog(client, keys), lease=stale)
    stored = pipeline.process([("stream", payload(make_alert(severity="critical")))]).accepted[0]
    late = stored.received_at + timedelta(minutes=3)

    fence = stale.hold()
    wait_for(lambda: not client.exists(keys.lease("escalation")), 10, "the lease to expire in Redis")
    case = workflow.open_cases(late)[0]
    escalation = assess(case, EscalationPolicy(), late)
    with pytest.raises(StaleFence):  # expired, nobody holds it yet
        workflow.escalate(escalation, fence)
    successor = _lease(client, keys)
    assert successor.hold().number == fence.number + 1
    with pytest.raises(StaleFence):  # taken by another
        workflow.escalate(escalation, fence)
    assert workflow.state(stored.id).escalation_level == 0 and client.hlen(keys.escalation) == 0
    assert monitor.check(late) == []  # the stale holder's whole pass: nothing
    assert workflow.escalate(escalation, successor.current()) is True
    assert workflow.state(stored.id).escalation_level == 1


def test_lea004_two_monitors_with_their_own_clients_escalate_an_overdue_alert_once(redis_url, client, keys,
                                                                                 regions):
    store = AlertStore(client, keys)
    workflow = WorkflowStore(client, keys, store, TEMPLATES)
    pipeline = alert_pipeline(client, keys, regions, store=store, on_recorded=workflow.open_checklists)
    stored = pipeline.process([("stream", payload(make_alert(severity="critical")))]).accepted[0]
    late = stored.received_at + timedelta(minutes=2)  # level 1 due; level 2 one deadline later

    results: dict[int, list] = {}
    ready = threading.Barrier(2)

    def run(n: int) -> None:
        own = redis.Redis.from_url(redis_url)
        own_workflow = WorkflowStore(own, keys, AlertStore(own, keys), TEMPLATES)
        monitor = EscalationMonitor(own_workflow, EscalationPolicy(), audit=AuditLog(own, keys),
                                    lease=_lease(own, keys))
        ready.wait()
        results[n] = [e for minutes in (0, 0, 2, 2) for e in monitor.check(late + timedelta(minutes=minutes))]
        own.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(found) for found in results.values()) == [0, 2]  # one monitor did it all
    assert sorted(e.level for found in results.values() for e in found) == [1, 2]
    audit = [e for e in AuditLog(client, keys).read_all() if e.action == "alert.escalate"]
    assert [(e.object, e.detail["level"]) for e in audit] == [(stored.id, 1), (stored.id, 2)]
