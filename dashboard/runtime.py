"""Running one ``crisisdash`` process: the embedded Valkey, the background threads, the web server.

``serve`` runs the web server with, in the same process, the ingest workers
(unless ``--no-ingest``), the escalation monitor and, with ``--demo``, the
demo; ``ingest`` runs only the ingest workers (for scale-out). Both build
their parts with ``dashboard.services.build_services``. SIGTERM unwinds like
Ctrl-C, so the embedded Valkey is always stopped.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import uvicorn

from alerts.core.checklists import TemplateError, Templates
from alerts.core.feeds import FeedFileError, FeedRegistry
from dashboard.edge.tls import uvicorn_tls
from dashboard.embedded import EmbeddedValkey, running_url
from dashboard.services import Services, build_services, load_feeds
from dashboard.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def redis_for(settings: Settings) -> Iterator[Settings]:
    """Settings with a Redis URL: the configured one, or a started embedded Valkey (stopped on exit)."""
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
    """Settings pointing at the embedded Valkey a running ``crisisdash serve`` started; else exit with advice."""
    url = running_url(Path(settings.data_dir) / "valkey")
    if url is None:
        raise SystemExit("no Redis: give --redis-url (or REDIS_URL), or start `crisisdash serve` first")
    return replace(settings, redis_url=url)


def load_templates(settings: Settings) -> Templates:
    """The checklist templates, or exit naming the bad file and field (before anything starts)."""
    try:
        return Templates.load(settings.checklists_dir)
    except TemplateError as exc:
        raise SystemExit(f"bad checklist template: {exc}") from None


def load_feed_registry(settings: Settings) -> FeedRegistry:
    """The feed registry (``CRISIS_FEEDS``), or exit naming the bad file and field (before anything starts)."""
    try:
        return load_feeds(settings)
    except FeedFileError as exc:
        raise SystemExit(f"bad feed registry: {exc}") from None


def start_thread(name: str, target: Callable[[threading.Event], None], stop: threading.Event) -> threading.Thread:
    """A daemon thread running ``target(stop)``."""
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread


def start_ingest(services: Services, stop: threading.Event) -> list[threading.Thread]:
    """The four ingest workers (alerts and assets; stream and channel) as threads."""
    return [start_thread(name, worker.run, stop) for name, worker in services.ingest_workers().items()]


def serve(settings: Settings) -> None:
    """Run the web server until SIGINT/SIGTERM, with ingest, escalation and the demo as configured."""
    from dashboard.app import create_app, shutdown
    from dashboard.demo.alerts import run_demo
    from dashboard.demo.assets import run_asset_demo
    from dashboard.demo.users import create_demo_users

    # uvicorn handles both signals itself while serving, then re-raises them to this handler.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    templates, feeds = load_templates(settings), load_feed_registry(settings)
    with redis_for(settings) as settings:
        services = build_services(settings, templates, feeds)
        stop = threading.Event()
        threads = start_ingest(services, stop) if settings.run_ingest else []
        threads.append(start_thread("escalation", services.escalation_monitor().run, stop))
        if settings.demo:
            threads.append(start_thread("demo", lambda s: run_demo(services.client, services.keys, s), stop))
            threads.append(start_thread("asset-demo", lambda s: run_asset_demo(services.client, services.keys, s),
                                        stop))
            print(create_demo_users(services), flush=True)
        app = create_app(settings, services)
        try:
            uvicorn.run(app.server, host=settings.host, port=settings.port, log_level="warning",
                        timeout_graceful_shutdown=3, **uvicorn_tls(settings))
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
            shutdown(app)


def _exit_cleanly(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def ingest(settings: Settings) -> None:
    """Run only the ingest workers until SIGINT/SIGTERM."""
    templates, feeds = load_templates(settings), load_feed_registry(settings)
    with redis_for(settings) as settings:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        services = build_services(settings, templates, feeds)
        threads = start_ingest(services, stop)
        log.info("ingest running on %s (prefix %s)", settings.redis_url, settings.prefix)
        stop.wait()
        for thread in threads:
            thread.join(timeout=5)
        services.close()
