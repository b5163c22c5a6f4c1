"""Two ``crisisdash serve`` processes on one Redis: the escalation monitor runs in the one holding the lease
and escalates an overdue alert exactly once; killed (SIGKILL), the other takes the lease over once it
expires and escalates the next one, once; stopped cleanly, a holder gives its leases back at once."""
from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis

from alerts.store.audit import AuditLog
from alerts.store.keys import Keys
from alerts.store.lease import holder
from tests.conftest import _delete_prefix, make_alert, payload, start_server, stop_server, wait_for

LEASE_S = 2


def _holder_pid(client, keys: Keys, name: str) -> int | None:
    found = holder(client, keys.lease(name))
    return None if found is None else int(found[1].split("/")[1])


def _overdue(client, keys: Keys) -> str:
    """An alert through the inbox, its checklist then dated 3 minutes back: critical, level 1 is due."""
    alert = make_alert(severity="critical", title="Lease test")
    client.xadd(keys.inbox, {"payload": payload(alert)})
    raw = wait_for(lambda: client.get(keys.checklist(alert["id"])), 30, "the checklist")
    checklist = json.loads(raw)
    checklist["received_at"] = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    client.set(keys.checklist(alert["id"]), json.dumps(checklist))
    return alert["id"]


def _escalated(client, keys: Keys, alert_id: str) -> int:
    raw = client.hget(keys.escalation, alert_id)
    return json.loads(raw)["level"] if raw else 0


def test_lep001_two_serve_processes_escalate_once_and_the_survivor_takes_over(redis_url, monkeypatch):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    keys = Keys(prefix)
    client = redis.Redis.from_url(redis_url)
    monkeypatch.setenv("CRISIS_ESCALATION_TICK", "0.2")
    # (_overdue backdates a checklist the monitor may already have read: no deadline foresees that, so each
    # pass reads every case, as it would within the recheck time)
    monkeypatch.setenv("CRISIS_ESCALATION_RECHECK", "0.2")
    monkeypatch.setenv("CRISIS_LEASE_SECONDS", str(LEASE_S))
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(keys.escalations_channel)
    servers = [start_server(redis_url, prefix), start_server(redis_url, prefix)]
    try:
        by_pid = {s.process.pid: s for s in servers}
        first = wait_for(lambda: _holder_pid(client, keys, "escalation"), 20, "a holder of the escalation lease")
        assert first in by_pid and _holder_pid(client, keys, "exercises") in by_pid
        number = holder(client, keys.lease("escalation"))[0]

        def audited() -> list:  # the audit entry follows the (fenced) escalation write: wait for it
            return sorted((e.object, e.detail["level"]) for e in AuditLog(client, keys).read_all()
                          if e.action == "alert.escalate")

        one = _overdue(client, keys)
        wait_for(lambda: _escalated(client, keys, one) == 1, 30, "the overdue alert to escalate")
        # (a kill between the escalation write and its audit entry would leave the first one unaudited)
        wait_for(lambda: (one, 1) in audited(), 30, "the first escalation audited")

        by_pid[first].kill()  # SIGKILL: no release; the lease has to expire
        survivor = next(pid for pid in by_pid if pid != first)
        wait_for(lambda: _holder_pid(client, keys, "escalation") == survivor, LEASE_S + 20,
                 "the other process to take the escalation lease")
        assert holder(client, keys.lease("escalation"))[0] == number + 1  # a new grant, a higher fence
        two = _overdue(client, keys)
        wait_for(lambda: _escalated(client, keys, two) == 1, 30, "the next overdue alert to escalate")
        wait_for(lambda: len(audited()) >= 2, 30, "both escalations audited")
        assert audited() == sorted([(one, 1), (two, 1)])
        messages, deadline = [], time.monotonic() + 10
        while ((message := pubsub.get_message(timeout=0.5)) is not None
               or (len(messages) < 2 and time.monotonic() < deadline)):
            if message is not None:  # None also for the (ignored) subscribe confirmation
                messages.append(json.loads(message["data"]))
        assert sorted((m["alert_id"], m["level"]) for m in messages) == sorted([(one, 1), (two, 1)])

        stop_server(by_pid[survivor])  # a clean stop gives both leases back at once
        assert holder(client, keys.lease("escalation")) is None and holder(client, keys.lease("exercises")) is None
    finally:
        for server in servers:
            stop_server(server)
        pubsub.close()
        _delete_prefix(client, prefix)

