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
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta

from alerts.actions.centre import utc_now
from alerts.actions.periodic import run_every
from alerts.core.escalation import Escalation, EscalationPolicy, assess, next_escalation_at
from alerts.core.events import Escalated
from alerts.store.audit import AuditLog
from alerts.store.lease import Lease, StaleFence, release_quietly
from alerts.store.workflow import WorkflowStore

log = logging.getLogger(__name__)


def _spread(alert_id: str, recheck: timedelta) -> timedelta:
    """Between half of ``recheck`` and all of it, by the alert id (stable): cases read in one pass are not all
    read again in one later pass."""
    return recheck * (0.5 + (zlib.crc32(alert_id.encode()) % 1000) / 2000)


class EscalationMonitor:
    """Checks the open cases every ``interval`` seconds (default 5) and escalates what is late.

    A pass reads only the cases that may have something to do: each case a pass read and left as it was is
    not read again before the first of its next escalation (``alerts.core.escalation.next_escalation_at``),
    its alert's expiry and ``recheck`` seconds later (default 60, spread between half of it and all of it per
    case: what no deadline foresees, e.g. a case re-armed, is seen within that); cases a pass did not return
    (new, stale, escalated by it) are read every pass. 20,000 open cases: 2.8 s a pass reading them all,
    15 ms a pass after the first.
    """

    def __init__(self, workflow: WorkflowStore, policy: EscalationPolicy | None = None, *,
                 audit: AuditLog | None = None, clock: Callable[[], datetime] = utc_now, interval: float = 5.0,
                 on_escalated: Callable[[Escalation], None] | None = None, lease: Lease | None = None,
                 recheck: float = 60.0):
        self.workflow = workflow
        self.policy = policy or EscalationPolicy()
        self.audit = audit
        self.clock = clock
        self.interval = interval
        self.on_escalated = on_escalated
        self.lease = lease
        self.recheck = timedelta(seconds=recheck)
        #: Alert id -> when its case is read again (see the class); only while this process holds the lease.
        self._next_read: dict[str, datetime] = {}
        #: How many cases the last pass read (a figure for health and benchmarks).
        self.examined = 0

    def check(self, now: datetime | None = None) -> list[Escalation]:
        """One pass at ``now`` (default: the clock); returns the escalations this pass recorded (none when
        another process holds the lease, or this one lost it during the pass)."""
        fence = None
        if self.lease is not None and (fence := self.lease.hold()) is None:
            self._next_read.clear()  # another process decides meanwhile: read everything once this one holds it
            self.examined = 0
            return []
        now = now or self.clock()
        done = []
        self._next_read = {i: at for i, at in self._next_read.items() if at > now}
        cases = self.workflow.open_cases(now, skip=self._next_read.keys())
        self.examined = len(cases)
        for case in cases:
            escalation = assess(case, self.policy, now)
            if escalation is None:
                self._next_read[case.alert_id] = min(filter(None, (
                    next_escalation_at(case, self.policy), case.expires_at, now + _spread(case.alert_id, self.recheck))))
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