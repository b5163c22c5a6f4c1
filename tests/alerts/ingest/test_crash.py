"""An ingest worker process killed mid-burst: nothing lost, nothing recorded twice (one worker, and two)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading

import pytest

from alerts.store.producer import send_to_stream
from tests.conftest import ROOT, make_alert, payload, wait_for

BURST = 2000


def _ingest(redis_url: str, prefix: str, consumer: str) -> subprocess.Popen:
    env = {**os.environ, "CRISIS_CONSUMER": consumer, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "dashboard.cli", "ingest", "--redis-url", redis_url,
                             "--prefix", prefix], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=tempfile.TemporaryFile())


def _created(client, keys) -> int:
    return sum(1 for _, f in client.xrange(keys.events) if f[b"kind"] == b"alert.created")


@pytest.mark.parametrize("workers", [1, 2])
def test_crs001_killing_an_ingest_worker_mid_burst_loses_and_duplicates_nothing(redis_url, prefix, client, keys,
                                                                                  workers):
    alerts = [make_alert(id=f"burst-{i:05d}", reported_at="2019-09-09T09:09:09Z") for i in range(BURST)]
    procs = [_ingest(redis_url, prefix, f"w{i}") for i in range(workers)]
    produced = threading.Event()

    def produce():
        for start in range(0, BURST, 100):
            send_to_stream(client, keys, [payload(a) for a in alerts[start:start + 100]])
        produced.set()

    try:
        producer = threading.Thread(target=produce)
        producer.start()
        wait_for(lambda: _created(client, keys) >= 300, timeout=60, what="ingest under way")
        procs[0].send_signal(signal.SIGKILL)  # mid-burst: it holds a batch it has not acknowledged
        procs[0].wait(timeout=10)
        producer.join()
        assert produced.is_set()
        procs[0] = _ingest(redis_url, prefix, "w0")  # restarted under its name: it takes up its pending work
        wait_for(lambda: _created(client, keys) >= BURST, timeout=120, what="every alert recorded")
        wait_for(lambda: client.xpending(keys.inbox, keys.ingest_group)["pending"] == 0, timeout=30,
                 what="nothing left pending")
        assert _created(client, keys) == BURST  # none recorded twice
        stored = {k.decode()[len(keys.alert("")):] for k in client.scan_iter(match=keys.alert_pattern, count=1000)}
        assert stored == {a["id"] for a in alerts}  # none lost, none under a second key
        assert client.xlen(keys.dead_letters) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
