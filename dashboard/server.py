"""Running the pieces of one ``crisisdash`` process: embedded Valkey, ingest, demo, web server."""
from __future__ import annotations

import logging
import secrets
import signal
import threading
from pathlib import Path
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import replace

import redis
import uvicorn

from alerts.audit import AuditLog
from alerts.checklists import TemplateError, Templates
from alerts.escalation import EscalationMonitor
from alerts.geography import RegionIndex
from alerts.ingest import IngestPipeline, PubSubIngest, StreamIngest
from alerts.keys import Keys
from alerts.store import AlertStore
from alerts.workflow import Workflow
from dashboard.embedded import EmbeddedValkey
from dashboard.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def redis_for(settings: Settings) -> Iterator[Settings]:
    """Settings with a Redis URL: the configured one, or a started embedded Valkey."""
    if settings.redis_url:
        yield settings
        return
    embedded = EmbeddedValkey(settings.data_dir)
    url = embedded.start()
    log.info("embedded Valkey at %s (data in %s)", url, embedded.data_dir)
    try:
        yield replace(settings, redis_url=url)
    finally:
        embedded.stop()


def embedded_url_if_running(settings: Settings) -> Settings:
    """Settings pointing at the embedded Valkey a running ``crisisdash serve`` started."""
    from dashboard.embedded import running_url

    url = running_url(Path(settings.data_dir) / "valkey")
    if url is None:
        raise SystemExit("no Redis: give --redis-url (or REDIS_URL), or start `crisisdash serve` first")
    return replace(settings, redis_url=url)


def load_templates(settings: Settings) -> Templates:
    """The checklist templates, or a clear exit naming the bad file and field."""
    try:
        return Templates.load(settings.checklists_dir)
    except TemplateError as exc:
        raise SystemExit(f"bad checklist template: {exc}") from None


def ingest_pipeline(settings: Settings, regions: RegionIndex, templates: Templates) -> IngestPipeline:
    """An ingest pipeline on its own Redis client that opens each new alert's checklist."""
    client = redis.Redis.from_url(settings.redis_url)
    keys = Keys(settings.prefix)
    store = AlertStore(client, keys)
    workflow = Workflow(client, keys, store, templates)
    return IngestPipeline(store, regions, max_bytes=settings.max_payload_bytes,
                          on_recorded=workflow.open_checklists)


def start_ingest(settings: Settings, regions: RegionIndex, stop: threading.Event,
                 templates: Templates | None = None) -> list[threading.Thread]:
    """Start the stream and channel ingest workers as threads (one Redis client each)."""
    templates = templates or load_templates(settings)
    threads = []
    for name, make in (("ingest-stream", StreamIngest), ("ingest-channel", PubSubIngest)):
        pipeline = ingest_pipeline(settings, regions, templates)
        worker = make(pipeline)
        thread = threading.Thread(target=worker.run, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    from dashboard.asset_feed import start_asset_ingest

    threads += start_asset_ingest(settings, stop)  # asset positions and status, the same two ways in
    return threads


def serve(settings: Settings) -> None:
    from dashboard.app import create_app, shutdown
    from dashboard.demo import run_demo
    from dashboard.services import Services

    # SIGTERM unwinds like Ctrl-C, so the embedded Valkey is always stopped. uvicorn
    # handles both signals itself while serving, then re-raises them to this handler.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    templates = load_templates(settings)  # before anything starts
    with redis_for(settings) as settings:
        services = Services.connect(settings)
        stop = threading.Event()
        threads = start_ingest(settings, services.regions, stop, templates) if settings.run_ingest else []
        threads.append(start_escalation(settings, templates, stop))
        if settings.demo:
            demo = threading.Thread(target=run_demo, args=(services.client, services.keys, stop),
                                    name="demo", daemon=True)
            demo.start()
            threads.append(demo)
            from dashboard.demo_assets import run_asset_demo

            asset_demo = threading.Thread(target=run_asset_demo, args=(services.client, services.keys, stop),
                                          name="asset-demo", daemon=True)
            asset_demo.start()
            threads.append(asset_demo)
        if settings.demo:
            create_demo_users(services)
        app = create_app(settings, services)
        try:
            uvicorn.run(app.server, host=settings.host, port=settings.port, log_level="warning",
                        timeout_graceful_shutdown=3)
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
            shutdown(app)


def escalation_monitor(settings: Settings, templates: Templates) -> EscalationMonitor:
    """The escalation monitor on its own Redis client (several processes may run one: each level fires once)."""
    client = redis.Redis.from_url(settings.redis_url)
    keys = Keys(settings.prefix)
    workflow = Workflow(client, keys, AlertStore(client, keys), templates, audit=AuditLog(client, keys))
    return EscalationMonitor(workflow, settings.escalation_policy, interval=settings.escalation_tick_seconds)


def start_escalation(settings: Settings, templates: Templates, stop: threading.Event) -> threading.Thread:
    monitor = escalation_monitor(settings, templates)
    thread = threading.Thread(target=monitor.run, args=(stop,), name="escalation", daemon=True)
    thread.start()
    return thread


DEMO_USERS = [
    ("demo-duty-rs", "duty_officer", "RS"),
    ("demo-responder-gr", "responder", "GR"),
    ("demo-leader-hr", "leadership", "HR"),
    ("demo-admin-mk", "admin", "MK"),
]


def create_demo_users(services) -> None:
    """Demo users with fresh random passwords, printed once at start-up."""
    lines = ["", "Demo users (passwords are new at every --demo start):"]
    for name, role, nation in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        if services.accounts.get_user(name) is None:
            services.accounts.add_user(name, role, nation, password)
            services.audit.append("system", "user.add", name, {"role": role, "nation": nation, "demo": True})
        else:
            services.accounts.set_password(name, password)
        lines.append(f"  {name:<20} {role:<13} {nation}  password: {password}")
    lines.append(f"Open http://{services.settings.host}:{services.settings.port}/ and sign in.")
    print("\n".join(lines), flush=True)


def _exit_cleanly(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def ingest(settings: Settings) -> None:
    """Run only the ingest workers until SIGINT/SIGTERM."""
    with redis_for(settings) as settings:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        regions = RegionIndex.from_assets(settings.assets_dir)
        threads = start_ingest(settings, regions, stop, load_templates(settings))
        log.info("ingest running on %s (prefix %s)", settings.redis_url, settings.prefix)
        stop.wait()
        for thread in threads:
            thread.join(timeout=5)
