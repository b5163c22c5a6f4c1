"""The exercise scheduler: fires due injects and calls backups, in whichever server process holds the lease.

Every ``serve`` process runs one. Each pass (every ``interval`` seconds, default 0.5) it takes or renews
its ``lease`` (``alerts.store.lease``; without one, every pass runs) and, while it holds it, runs
``alerts.actions.exercises.tick`` with the lease's fence, so a holder whose lease ran out (paused, cut
off) fires nothing. If the holder dies, another process takes over once the lease expires; one that stops
releases it at once. Firing itself is exactly-once whatever the lease does (one script writes the record
and the inbox entries together), so a lease lost mid-pass can delay an inject by the lease time at most,
never repeat it. The clock is the centre's (injectable).
"""
from __future__ import annotations

import logging
import threading

from alerts.actions.centre import Centre
from alerts.actions.evaluation import missed_by
from alerts.actions.exercises import tick
from alerts.actions.periodic import run_every
from alerts.store.lease import Lease, StaleFence, release_quietly

log = logging.getLogger(__name__)


class ExerciseScheduler:
    """Runs ``tick`` every ``interval`` seconds while this process holds the scheduler ``lease``."""

    def __init__(self, centre: Centre, *, interval: float = 0.5, lease: Lease | None = None):
        self.centre = centre
        self.interval = interval
        self.lease = lease
        self._missed = missed_by(centre)

    def check(self) -> list[tuple[str, int]]:
        """One pass: ``(exercise id, inject)`` fired by it (none when another process holds the lease)."""
        fence = None
        if self.lease is not None and (fence := self.lease.hold()) is None:
            return []
        try:
            return tick(self.centre, self._missed, fence)
        except StaleFence as refused:
            log.warning("%s", refused)
            return []

    def run(self, stop: threading.Event) -> None:
        """``check`` until ``stop`` is set; a failed pass is logged and retried. The lease is released on the
        way out."""
        try:
            run_every(stop, self.interval, self.check, "exercise scheduler pass", log)
        finally:
            release_quietly(self.lease)
