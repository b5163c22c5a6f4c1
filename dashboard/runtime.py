"""Running one ``crisisdash`` process: the embedded Valkey, the background threads, the web server.

``serve`` runs the web server with, in the same process, the ingest workers
(unless ``--no-ingest``), the escalation monitor, the CoT listener when
``CRISIS_COT_LISTEN`` asks for one (``dashboard.cot_listener``) and, with
``--demo``, the demo; ``ingest`` runs only the ingest workers (for scale-out). Both build
their parts with ``dashboard.services.build_services``. SIGTERM unwinds like
Ctrl-C, so the embedded Valkey is always stopped.

Every background thread (the ingest workers, the live feed's follower, the
escalation monitor, the demo) and, under ``serve``, the embedded Valkey
(``EmbeddedValkey.watch``) run under the process's ``Supervisor``
(``dashboard.supervisor``): one that dies is logged and restarted with
back-off (``CRISIS_RESTART_BACKOFF``, ``CRISIS_RESTART_BACKOFF_MAX``), and
``GET /api/v1/health`` shows each one's state.
"""
from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from alerts.core.checklists import TemplateError, Templates
from alerts.core.feeds import FeedFileError, FeedRegistry
from alerts.store.client import shown_url
from dashboard.edge.server import serve_app, uvicorn_options
from dashboard.embedded import EmbeddedValkey, running_url
from dashboard.running import UntrustedPath, register, running, unregister
from dashboard.services import Services, build_services, load_feeds
from dashboard.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Store:
    """What ``store_for`` gives: settings with a Redis URL, and the embedded Valkey behind it (None: external)."""

    settings: Settings
    embedded: EmbeddedValkey | None


@contextmanager
def store_for(settings: Settings) -> Iterator[Store]:
    """The configured Redis, or a started embedded Valkey (stopped on exit), with the settings pointing at it."""
    if settings.redis_url:
        yield Store(settings, None)
        return
    embedded = EmbeddedValkey(settings.data_dir)
    url = embedded.start()
    log.info("embedded Valkey on the socket %s (data in %s; its password in %s/password)", embedded.socket,
             embedded.data_dir, embedded.data_dir)  # never the URL: it carries the password
    try:
        yield Store(replace(settings, redis_url=url), embedded)
    finally:
        embedded.stop()


@contextmanager
def redis_for(settings: Settings) -> Iterator[Settings]:
    """Settings with a Redis URL: the configured one, or a started embedded Valkey (stopped on exit)."""
    with store_for(settings) as store:
        yield store.settings


def embedded_url_if_running(settings: Settings, data_dir_given: bool = True) -> Settings:
    """Settings pointing at the embedded Valkey a running ``crisisdash serve`` started on the data directory;
    without ``data_dir_given``, the only running one (``dashboard.running``) will do. Else exit saying exactly
    which ``--data-dir`` or ``--redis-url`` to give (or why a data folder or the registry cannot be trusted:
    ``dashboard.running.UntrustedPath``)."""
    try:
        return _embedded_url_if_running(settings, data_dir_given)
    except UntrustedPath as exc:
        raise SystemExit(f"{exc}: give --redis-url URL, or --data-dir of your own") from None


def _embedded_url_if_running(settings: Settings, data_dir_given: bool) -> Settings:
    url = running_url(Path(settings.data_dir) / "valkey")
    if url is not None:
        return replace(settings, redis_url=url)
    serves = [s for s in running() if running_url(s.data_dir / "valkey")]
    if len(serves) == 1 and not data_dir_given:
        log.info("using the crisisdash serve on --data-dir %s (%s)", serves[0].data_dir, serves[0].address)
        return replace(settings, redis_url=running_url(serves[0].data_dir / "valkey"), data_dir=serves[0].data_dir)
    here = Path(settings.data_dir).resolve()
    if serves:
        choices = "; ".join(f"--data-dir {s.data_dir} (serving {s.address})" for s in serves)
        raise SystemExit(f"no crisisdash serve runs on the data directory {here}; give one of: {choices}")
    raise SystemExit(f"no crisisdash serve is running (as this user, on this machine; looked for its data in "
                     f"{here}): start one with `crisisdash serve`, or give --redis-url URL (or REDIS_URL)")


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


def start_thread(services: Services, name: str, target: Callable[[threading.Event], None], stop: threading.Event,
                 *, critical: bool = True) -> threading.Thread:
    """A daemon thread running ``target(stop)`` under the process's supervisor (restarted when it dies)."""
    return services.supervisor.start(name, target, stop, critical=critical)


def start_ingest(services: Services, stop: threading.Event) -> list[threading.Thread]:
    """The four ingest workers (alerts and assets; stream and channel) as supervised threads."""
    return [start_thread(services, name, worker.run, stop) for name, worker in services.ingest_workers().items()]


def cot_listener(settings: Settings, services: Services, feeds: FeedRegistry):
    """The CoT listener ``CRISIS_COT_LISTEN`` asks for (None: none), or exit naming what is wrong."""
    from dashboard.cot_listener import build_listener, spec_from_settings

    try:
        spec = spec_from_settings(settings)
        return None if spec is None else build_listener(spec, settings, services.client, feeds, services.centre)
    except ValueError as exc:
        services.close()
        raise SystemExit(f"CoT listener: {exc}") from None


def serve(settings: Settings) -> None:
    """Run the web server until SIGINT/SIGTERM, with ingest, escalation and the demo as configured."""
    from dashboard.app import create_app, shutdown
    from dashboard.demo.alerts import new_run, run_demo
    from dashboard.demo.assets import run_asset_demo
    from dashboard.demo.exercise import start_demo_exercise
    from dashboard.demo.users import create_demo_users

    # uvicorn handles both signals itself while serving, then re-raises them to this handler.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    templates, feeds = load_templates(settings), load_feed_registry(settings)
    with store_for(settings) as store:
        settings = store.settings
        services = build_services(settings, templates, feeds)
        listener = cot_listener(settings, services, feeds)
        stop = threading.Event()
        threads = [start_thread(services, "valkey", store.embedded.watch, stop)] if store.embedded else []
        threads += start_ingest(services, stop) if settings.run_ingest else []
        threads.append(start_thread(services, "escalation", services.escalation_monitor().run, stop))
        threads.append(start_thread(services, "exercises", services.exercise_scheduler().run, stop))
        if listener is not None:
            threads.append(start_thread(services, "cot-listener", listener.run, stop))
        if settings.demo:
            run = new_run()
            threads.append(start_thread(services, "demo",
                                        lambda s: run_demo(services.client, services.keys, s, run),
                                        stop, critical=False))
            threads.append(start_thread(services, "asset-demo",
                                        lambda s: run_asset_demo(services.client, services.keys, s), stop,
                                        critical=False))
            print(create_demo_users(services), flush=True)
            print(start_demo_exercise(services), flush=True)
        app = create_app(settings, services)
        scheme = "https" if settings.tls_certfile else "http"
        entry = register(settings.data_dir, f"{scheme}://{settings.host}:{settings.port}") if store.embedded else None
        gc.freeze()  # start-up's objects (modules, the app, the read model) are never scanned again by a collection
        try:
            serve_app(app.server, app.server.state.stream_limits.end_all, host=settings.host, port=settings.port,
                      timeout_graceful_shutdown=3, **uvicorn_options(settings))  # bounded heads; no proxy headers
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if entry is not None:
                unregister(entry)
            stop.set()
            join_all(threads, timeout=5)
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
        log.info("ingest running on %s (prefix %s)", shown_url(settings.redis_url), settings.prefix)
        gc.freeze()  # what start-up made lives until the end: no collection scans it again, nor at exit
        stop.wait()
        join_all(threads, timeout=5)
        services.close()


def join_all(threads: list[threading.Thread], timeout: float) -> None:
    """Wait for ``threads`` to end, ``timeout`` seconds for them all (not each); the ones still running are
    logged by name (they are daemon threads: the process ends without them)."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    late = [thread.name for thread in threads if thread.is_alive()]
    if late:
        log.warning("still running %.0f s after the stop, left behind: %s", timeout, ", ".join(late))
