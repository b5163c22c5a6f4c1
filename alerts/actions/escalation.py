"""The escalation monitor: checks the open responses on a clock and escalates what is late.

``check(now)`` is one pass with the time passed in (tests move the clock
instead of sleeping); ``run`` repeats it every ``interval`` seconds until
stopped. With a ``lease`` (``alerts.store.lease``; every ``serve`` process has
one, ``dashboard.services``), a pass runs only in the process that holds it, so
the monitor runs once across a deployment; each write is fenced, so a holder
whose lease ran out (paused, cut off) writes nothing, and ``run`` releases the
lease when it stops, so another process takes over at once. Each escalation is decided by ``alerts.core.escalation.assess``,
recorded and announced once per level across every process by
``alerts.store.workflow.WorkflowStore.escalate``, and audited
(``alert.escalate``) by the process whose write won.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from alerts.actions.centre import utc_now
from alerts.actions.periodic import run_every
from alerts.core.escalation import Escalation, EscalationPolicy, assess
from alerts.core.events import Escalated
from alerts.store.audit import AuditLog
from alerts.store.lease import Lease, StaleFence, release_quietly
from alerts.store.workflow import WorkflowStore

log = logging.getLogger(__name__)


class EscalationMonitor:
    """Checks the open cases every ``interval`` seconds (default 5) and escalates what is late."""

    def __init__(self, workflow: WorkflowStore, policy: EscalationPolicy | None = None, *,
                 audit: AuditLog | None = None, clock: Callable[[], datetime] = utc_now, interval: float = 5.0,
                 on_escalated: Callable[[Escalation], None] | None = None, lease: Lease | None = None):
        self.workflow = workflow
        self.policy = policy or EscalationPolicy()
        self.audit = audit
        self.clock = clock
        self.interval = interval
        self.on_escalated = on_escalated
        self.lease = lease

    def check(self, now: datetime | None = None) -> list[Escalation]:
        """One pass at ``now`` (default: the clock); returns the escalations this pass recorded (none when
        another process holds the lease, or this one lost it during the pass)."""
        fence = None
        if self.lease is not None and (fence := self.lease.hold()) is None:
            return []
        now = now or self.clock()
        done = []
        for case in self.workflow.open_cases(now):
            escalation = assess(case, self.policy, now)
            if escalation is None:
                continue
            if self.lease is not None and self.lease.current() is None:
                log.warning("escalation lease ran out during a pass; leaving the rest to its next holder")
                break
            try:
                if not self.workflow.escalate(escalation, fence):
                    continue
            except StaleFence as refused:
                log.warning("%s", refused)
                break
            done.append(escalation)
            if self.audit is not None:
                self.audit.record("system", Escalated(escalation.alert_id, level=escalation.level,
                                                      reason=escalation.reason))
            if self.on_escalated is not None:
                self.on_escalated(escalation)
        return done

    def run(self, stop: threading.Event) -> None:
        """``check`` every ``interval`` seconds until ``stop`` is set; a failed pass is logged and retried.
        The lease (if any) is released on the way out."""
        try:
            run_every(stop, self.interval, self.check, "escalation check", log)
        finally:
            release_quietly(self.lease)