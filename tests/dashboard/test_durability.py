"""Nothing is lost across a SIGKILL, and the embedded Valkey keeps its data across restarts."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid

import httpx
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import ROOT, add_user, free_port, make_alert, payload, start_server, stop_server, wait_for


def test_dur001_alerts_added_while_serve_is_killed_and_restarted_are_all_kept(redis_url, prefix):
    server = start_server(redis_url, prefix)
    client, keys = redis.Redis.from_url(redis_url), Keys(prefix)
    user = add_user(redis_url, prefix, "durable", "duty_officer", "MK")
    alerts = [make_alert(id=f"dur-{i:04d}", reported_at="2017-07-07T07:07:07Z") for i in range(1000)]
    produced = threading.Event()

    def produce():
        for start in range(0, 1000, 50):
            send_to_stream(client, keys, [payload(a) for a in alerts[start:start + 50]])
        produced.set()

    try:
        producer = threading.Thread(target=produce)
        producer.start()
        # Kill mid-stream: as soon as ingest has stored some but not all of them.
        wait_for(lambda: client.exists(keys.alert("dur-0100")), what="ingest to be under way")
        server.kill(signal.SIGKILL)
        producer.join()
        assert produced.is_set()
        server.restart()
        window = {"since": "2017-07-07T00:00:00Z", "until": "2017-07-08T00:00:00Z"}
        wait_for(lambda: server.api("/summary", user, **window).json()["total_alerts"] == 1000,
                 timeout=60, what="all 1,000 alerts after the restart")
        listed = server.api("/alerts", user, limit=1000, **window).json()
        assert {item["id"] for item in listed["items"]} == {a["id"] for a in alerts}
        assert client.xpending(keys.inbox, keys.ingest_group)["pending"] == 0
        created = sum(1 for _, f in client.xrange(keys.events) if f[b"kind"] == b"alert.created")
        assert created == 1000  # each recorded once, even those processed twice
    finally:
        stop_server(server)


def _serve_embedded(data_dir, port, prefix: str | None = None, **extra_env: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | extra_env
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--data-dir", str(data_dir), "--port", str(port),
         "--prefix", prefix or f"emb-{uuid.uuid4().hex[:6]}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _state(data_dir) -> dict:
    try:
        return json.loads((data_dir / "valkey" / "embedded-valkey.json").read_text())
    except (OSError, ValueError):
        return {}


def _embedded_url(data_dir, not_pid: int | None = None) -> str:
    """The URL of the embedded Valkey once it runs (and is not the process ``not_pid``)."""
    from dashboard.embedded import running_url

    wait_for(lambda: _state(data_dir).get("pid") not in (None, not_pid), timeout=60, what="a new embedded Valkey")
    return wait_for(lambda: running_url(data_dir / "valkey"), what="the embedded Valkey")


def _cli(*args: str, cwd, runtime_dir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CRISIS_DATA_DIR")}
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env | {"XDG_RUNTIME_DIR": str(runtime_dir), "PYTHONPATH": str(ROOT)}, timeout=60)


def test_dur002_embedded_valkey_persists_and_stops_with_the_app(tmp_path):
    port, prefix = free_port(), f"emb-{uuid.uuid4().hex[:6]}"
    data, runtime_dir, elsewhere = tmp_path / "data", tmp_path / "run", tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = _serve_embedded(data, port, prefix, XDG_RUNTIME_DIR=str(runtime_dir))
    try:
        url = _embedded_url(data)
        wait_for(lambda: _healthy(port), timeout=60, what="the app on the embedded Valkey")
        redis.Redis.from_url(url).set("durability-check", "kept")
        pid = _state(data)["pid"]
        # A newcomer's `publish` from another directory, without options, finds the one running serve ...
        alert = make_alert()
        (elsewhere / "alert.json").write_text(json.dumps(alert))
        done = _cli("publish", "--stream", "--prefix", prefix, "alert.json", cwd=elsewhere, runtime_dir=runtime_dir)
        assert done.returncode == 0, done.stderr
        wait_for(lambda: redis.Redis.from_url(url).exists(Keys(prefix).alert(alert["id"])), what="the alert stored")
        # ... and with a --data-dir where none runs, names the one to give.
        wrong = _cli("publish", "--data-dir", "nowhere", "alert.json", cwd=elsewhere, runtime_dir=runtime_dir)
        assert wrong.returncode != 0 and f"--data-dir {data}" in wrong.stderr and f":{port}" in wrong.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
    assert not _alive(pid), "the embedded Valkey outlived the app"
    logged = first.stdout.read()
    password = (data / "valkey" / "password").read_text().strip()
    assert f"embedded Valkey on the socket {(data / 'valkey' / 'valkey.sock').resolve()}" in logged and password not in logged
    gone = _cli("publish", "alert.json", cwd=elsewhere, runtime_dir=runtime_dir)
    assert gone.returncode != 0 and "no crisisdash serve is running" in gone.stderr and "--redis-url" in gone.stderr
    assert list(runtime_dir.glob("crisisdash/serve-*.json")) == []

    second = _serve_embedded(data, port)
    try:
        url = _embedded_url(data, not_pid=pid)
        assert redis.Redis.from_url(url).get("durability-check") == b"kept"
        # A SIGKILLed app leaves its Valkey behind; the next start must stop that orphan first.
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
        orphan = _state(data)["pid"]
        assert _alive(orphan)
        third = _serve_embedded(data, port)
        try:
            url = _embedded_url(data, not_pid=orphan)
            wait_for(lambda: not _alive(orphan), what="the orphaned Valkey to be stopped")
            assert redis.Redis.from_url(url).get("durability-check") == b"kept"
            wait_for(lambda: _healthy(port), timeout=60, what="the third app up")  # stopped once started
        finally:
            third.send_signal(signal.SIGTERM)
            third.wait(timeout=60)
    finally:
        if second.poll() is None:
            second.kill()


def _healthy(port) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        return "zombie" not in open(f"/proc/{pid}/status").read().lower()
    except OSError:
        return False
