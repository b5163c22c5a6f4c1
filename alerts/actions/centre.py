"""``Centre``: everything a use case works on, built once per process by the wiring point.

It holds the stores (Redis adapters), the in-memory read models, the
deployment's rules (escalation deadlines, classification levels, registered
feeds) and the clock. Use cases receive it; nothing reaches for a
global.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.core.asset_index import AssetIndex
from alerts.core.coverage import Places
from alerts.core.escalation import EscalationPolicy
from alerts.core.events import AuditEvent
from alerts.core.feeds import FeedRegistry
from alerts.core.index import AlertIndex
from alerts.core.markings import Classifications
from alerts.core.reach import Reach
from alerts.core.viewer import Viewer
from alerts.store.alerts import AlertStore
from alerts.store.assets import AssetStore
from alerts.store.audit import AuditLog
from alerts.store.exercises import ExerciseStore
from alerts.store.sharing import ReleasabilityRequests
from alerts.store.workflow import WorkflowStore


def utc_now() -> datetime:
    """The current time, UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass
class Centre:
    """The process's view of the centre: stores, read models, rules and clock."""

    alerts: AlertStore
    index: AlertIndex
    workflow: WorkflowStore
    assets: AssetStore
    asset_index: AssetIndex
    audit: AuditLog
    places: Places
    requests: ReleasabilityRequests
    policy: EscalationPolicy = field(default_factory=EscalationPolicy)
    #: The deployment's classification levels, lowest first (``CRISIS_CLASSIFICATIONS``).
    scheme: Classifications = field(default_factory=Classifications)
    #: The registered feeds (``CRISIS_FEEDS``).
    feeds: FeedRegistry = field(default_factory=FeedRegistry)
    clock: Callable[[], datetime] = utc_now
    #: Exercises (``alerts.store.exercises``); None in a process that does not run them.
    exercises: ExerciseStore | None = None
    #: ``user name -> that user's nation`` (ISO2), None for no such account; the accounts store's lookup.
    nation_of: Callable[[str], str | None] = lambda name: None
    #: Which assets can reach which places (``alerts.core.reach``); None: every asset reaches everywhere.
    reach: Reach | None = None
    #: Where this prefix's record events and the audit trail are archived (``CRISIS_RECORD_ARCHIVE_DIR`` and
    #: ``CRISIS_AUDIT_ARCHIVE_DIR``): the replay record's first read takes them in (``alerts.actions.replay``).
    record_archive: Path | None = None
    audit_archive: Path | None = None
    #: How long the replay record stays in memory unused (``CRISIS_REPLAY_IDLE``); None: once read, kept.
    record_idle: timedelta | None = None

    def record(self, viewer: Viewer, event: AuditEvent, ip: str = "") -> str:
        """Audit what ``viewer`` did (``event``), from ``ip`` or else the address the viewer's request came
        from (``Viewer.address``): every front end's entries say from where. Returns the entry id."""
        return self.audit.record(viewer.name, event, ip or viewer.address)
