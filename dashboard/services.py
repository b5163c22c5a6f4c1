"""The one builder of a process's parts: every Redis client, store, read model and worker comes from here.

``build_services(settings)`` connects once and builds the stores, the read
models and the ``Centre`` the use cases work on; ``create_app`` (the web
server), the runtime (``crisisdash serve`` / ``ingest``) and every CLI
command use it, so nothing is built twice or differently. The region index
(about a second to build) and the live feed are made on first use.
"""
from __future__ import annotations

import functools
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

from alerts.actions import sharing
from alerts.actions.centre import Centre
from alerts.actions.escalation import EscalationMonitor
from alerts.actions.exercise_scheduler import ExerciseScheduler
from alerts.core.asset_index import AssetIndex
from alerts.core.checklists import Templates
from alerts.core.coverage import Places
from alerts.core.feeds import FeedRegistry
from alerts.core.geography import BoundaryFiles, RegionIndex
from alerts.core.index import AlertIndex
from alerts.core.reach import Reach
from alerts.ingest.alerts import AlertPipeline
from alerts.ingest.assets import AssetPipeline
from alerts.ingest.workers import PubSubIngest, StreamIngest, default_consumer_name
from alerts.store.accounts import Accounts
from alerts.store.alerts import AlertStore
from alerts.store.assets import AssetStore
from alerts.store.audit import AuditLog
from alerts.store.client import Client, check_prefix, connect
from alerts.store.dead_letters import DeadLetters
from alerts.store.exercises import ExerciseStore
from alerts.store.heartbeats import Heartbeat
from alerts.store.inbox import ChannelInbox, StreamInbox
from alerts.store.inject_marks import InjectMarks
from alerts.store.keys import Keys
from alerts.store.lease import Lease
from alerts.store.producer import forward_assets
from alerts.store.sharing import ReleasabilityRequests
from alerts.store.workflow import WorkflowStore
from dashboard.live.feed import LiveFeed
from dashboard.outage import Outage
from dashboard.settings import Settings
from dashboard.supervisor import Backoff, Supervisor


@dataclass
class Services:
    """Everything one process runs on (built by ``build_services``)."""

    settings: Settings
    client: Client
    keys: Keys
    templates: Templates
    centre: Centre
    accounts: Accounts

    @functools.cached_property
    def regions(self) -> RegionIndex:
        """Countries and regions of the shipped boundaries (built on first use)."""
        return RegionIndex.from_assets(self.settings.assets_dir)

    @functools.cached_property
    def outage(self) -> Outage:
        """Whether this process reaches Redis now, and since when not (``dashboard.outage``)."""
        return Outage()

    @functools.cached_property
    def supervisor(self) -> Supervisor:
        """The supervisor of this process's background threads (``dashboard.supervisor``), its back-off from
        the settings ``restart_backoff_seconds`` / ``restart_backoff_max_seconds``."""
        settings = self.settings
        return Supervisor(Backoff(settings.restart_backoff_seconds, settings.restart_backoff_max_seconds))

    @functools.cached_property
    def live(self) -> LiveFeed:
        """The process's live feed (made on first use; ``create_app`` bootstraps and starts it), reporting
        to ``outage`` and supervised by ``supervisor``."""
        return LiveFeed(self.centre, self.client, self.keys, outage=self.outage, supervisor=self.supervisor)

    # --- ingest -----------------------------------------------------------------------------

    def alert_pipeline(self) -> AlertPipeline:
        """The alert pipeline; it opens each new alert's checklist before its batch is acknowledged."""
        return AlertPipeline(self.centre.alerts, self.regions, DeadLetters(self.client, self.keys.dead_letters),
                             max_bytes=self.settings.max_payload_bytes,
                             feeds=self.centre.feeds, scheme=self.centre.scheme,
                             on_recorded=self._recorded,
                             to_assets=lambda payloads: forward_assets(self.client, self.keys, payloads),
                             max_skew=timedelta(seconds=self.settings.max_clock_skew_seconds))

    def _recorded(self, batch: list) -> None:
        """What follows a recorded batch: checklists open, unrouted alerts are audited."""
        self.centre.workflow.open_checklists(batch)
        sharing.audit_held(self.centre, batch)

    def asset_pipeline(self) -> AssetPipeline:
        """The asset pipeline (positions and status of response assets)."""
        return AssetPipeline(self.centre.assets, DeadLetters(self.client, self.keys.assets_dead),
                             max_bytes=self.settings.max_payload_bytes, feeds=self.centre.feeds,
                             max_skew=timedelta(seconds=self.settings.max_clock_skew_seconds))

    def ingest_workers(self) -> dict[str, StreamIngest | PubSubIngest]:
        """The four ingest workers of a process, by thread name: alerts and assets, stream and channel.

        Each beats under ``<consumer>/<pid>/<thread name>`` (``alerts.store.heartbeats``).
        """
        consumer = self.settings.consumer or default_consumer_name()
        keys = self.keys
        alerts, assets = self.alert_pipeline(), self.asset_pipeline()

        def beat(name: str, stream: str) -> Heartbeat:
            return Heartbeat(self.client, keys, f"{consumer}/{os.getpid()}/{name}", stream)

        def inbox(stream: str, group: str) -> StreamInbox:  # acknowledged after WAIT, if asked for
            return StreamInbox(self.client, stream, group, consumer, wait_replicas=self.settings.wait_replicas,
                               wait_timeout_ms=int(self.settings.wait_timeout_seconds * 1000),
                               mark_key=keys.replicated)

        return {
            "ingest-stream": StreamIngest(alerts, inbox(keys.inbox, keys.ingest_group),
                                          heartbeat=beat("ingest-stream", keys.inbox),
                                          trusted=InjectMarks(self.client, keys).verify),
            "ingest-channel": PubSubIngest(alerts, ChannelInbox(self.client, keys.alerts_channel),
                                           heartbeat=beat("ingest-channel", keys.alerts_channel)),
            "asset-ingest-stream": StreamIngest(
                assets, inbox(keys.assets_inbox, keys.assets_ingest_group),
                heartbeat=beat("asset-ingest-stream", keys.assets_inbox)),
            "asset-ingest-channel": PubSubIngest(assets, ChannelInbox(self.client, keys.assets_channel),
                                                 heartbeat=beat("asset-ingest-channel", keys.assets_channel)),
        }

    def lease(self, name: str, ttl_s: float) -> Lease:
        """This process's claim on the job lease ``name`` (``alerts.store.lease``), ``ttl_s`` seconds long; its
        token ``<hostname>/<pid>/<random>`` says which process holds it."""
        token = f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"
        return Lease(self.client, self.keys.lease(name), self.keys.fencing(name), ttl_ms=int(ttl_s * 1000),
                     token=token)

    def escalation_monitor(self) -> EscalationMonitor:
        """The escalation monitor: every ``serve`` process runs one, the one holding the ``escalation`` lease
        checks (``lease_seconds``, at least three ticks); each level fires once whatever happens."""
        tick = self.settings.escalation_tick_seconds
        return EscalationMonitor(self.centre.workflow, self.centre.policy, audit=self.centre.audit,
                                 interval=tick, lease=self.lease("escalation", max(self.settings.lease_seconds,
                                                                                   3 * tick)),
                                 recheck=self.settings.escalation_recheck_seconds)

    def exercise_scheduler(self) -> ExerciseScheduler:
        """The exercise scheduler: every ``serve`` process runs one, the one holding the ``exercises`` lease
        (``lease_seconds``) fires."""
        return ExerciseScheduler(self.centre, lease=self.lease("exercises", self.settings.lease_seconds))

    def close(self) -> None:
        """Stop the live feed (if started) and close the Redis client."""
        if "live" in self.__dict__:
            self.live.stop()
        self.client.close()


def producer_client(settings: Settings) -> Client:
    """A client for sending payloads (``crisisdash publish``): a lost server fails in 5 s, not minutes."""
    return connect(settings.redis_url, timeout=5, retry_on_timeout=False)


def load_feeds(settings: Settings) -> FeedRegistry:
    """The feed registry of ``settings.feeds_file`` (empty without one); raises ``FeedFileError``."""
    if settings.feeds_file is None:
        return FeedRegistry()
    return FeedRegistry.load(settings.feeds_file, settings.scheme)


def build_services(settings: Settings, templates: Templates | None = None, feeds: FeedRegistry | None = None
                   ) -> Services:
    """Connect to ``settings.redis_url`` and build every part.

    ``templates`` are loaded from ``settings.checklists_dir`` and ``feeds``
    from ``settings.feeds_file`` unless given (raising ``TemplateError`` /
    ``FeedFileError`` naming the file and field of a bad one).
    """
    if not settings.redis_url:
        raise ValueError("no Redis URL: start the embedded Valkey first (dashboard.runtime.redis_for)")
    templates = templates or Templates.load(settings.checklists_dir)
    feeds = feeds if feeds is not None else load_feeds(settings)
    scheme = settings.scheme
    check_prefix(settings.redis_url, settings.prefix)  # on a cluster, every key in one slot (ValueError)
    # bounded: longer than any blocking read (2 s), so a hung Redis is "unreachable", never a hung request
    client = connect(settings.redis_url, timeout=settings.redis_timeout_seconds, retry_on_timeout=False)
    keys = Keys(settings.prefix)
    alerts = AlertStore(client, keys)
    audit = AuditLog(client, keys)
    centre = Centre(
        alerts=alerts,
        index=AlertIndex(horizon=settings.memory_horizon, fetch=alerts.get, fetch_many=alerts.get_many),
        workflow=WorkflowStore(client, keys, alerts, templates),
        assets=AssetStore(client, keys),
        asset_index=AssetIndex(),
        audit=audit,
        places=Places.from_assets(settings.assets_dir),
        requests=ReleasabilityRequests(client, keys),
        policy=settings.escalation_policy,
        scheme=scheme,
        feeds=feeds,
        exercises=ExerciseStore(client, keys),
        reach=Reach.from_boundaries(BoundaryFiles(settings.assets_dir).admin0),
        record_archive=settings.record_archive / settings.prefix,
        audit_archive=settings.audit_archive,
        record_idle=settings.replay_idle,
    )
    accounts = Accounts(client, keys, scheme)
    centre.nation_of = lambda name: (user.nation if (user := accounts.get_user(name)) is not None else None)
    return Services(settings=settings, client=client, keys=keys, templates=templates, centre=centre,
                    accounts=accounts)
