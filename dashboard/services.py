"""The objects one server process runs on, built once by ``create_app`` and passed around."""
from __future__ import annotations

from dataclasses import dataclass

import redis

from alerts.audit import AuditLog
from alerts.checklists import Templates
from alerts.geography import RegionIndex
from alerts.index import AlertIndex
from alerts.keys import Keys
from alerts.store import AlertStore
from alerts.workflow import Workflow
from dashboard.accounts import Accounts
from dashboard.live import FeedFollower
from dashboard.settings import Settings


@dataclass
class Services:
    settings: Settings
    client: redis.Redis
    keys: Keys
    store: AlertStore
    index: AlertIndex
    follower: FeedFollower
    regions: RegionIndex
    accounts: Accounts
    audit: AuditLog
    workflow: Workflow

    @classmethod
    def connect(cls, settings: Settings, regions: RegionIndex | None = None) -> "Services":
        templates = Templates.load(settings.checklists_dir)  # a bad template stops start-up here
        client = redis.Redis.from_url(settings.redis_url, health_check_interval=30)
        keys = Keys(settings.prefix)
        store = AlertStore(client, keys)
        index = AlertIndex()
        audit = AuditLog(client, keys)
        return cls(
            settings=settings,
            client=client,
            keys=keys,
            store=store,
            index=index,
            follower=FeedFollower(store, index),
            regions=regions or RegionIndex.from_assets(settings.assets_dir),
            accounts=Accounts(client, keys),
            audit=audit,
            workflow=Workflow(client, keys, store, templates, audit=audit),
        )


_current: Services | None = None


def install(services: Services) -> None:
    """Make ``services`` the process's services (Dash callbacks are module-level functions)."""
    global _current
    _current = services


def current() -> Services:
    if _current is None:
        raise RuntimeError("no services installed: build the app with dashboard.create_app()")
    return _current
