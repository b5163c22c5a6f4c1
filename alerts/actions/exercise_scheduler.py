"""The exercise scheduler: fires due injects and calls backups, in whichever server process holds the lease.

Every ``serve`` process runs one. Each pass (every ``interval`` seconds, default 0.5) it takes or renews
the lease (``alerts.store.exercises.ExerciseStore.hold_lease``, ``lease_s`` long) and, while it holds it,
runs ``alerts.actions.exercises.tick``. If the holder dies, another process takes over once the lease
expires. Firing itself is exactly-once whatever the lease does (one script writes the record and the
inbox entries together), so a lease lost mid-pass can delay an inject by ``lease_s`` at most, never
repeat it. The clock is the centre's (injectable).
"""
from __future__ import annotations

import logging
import secrets
import threading

from alerts.actions.centre import Centre
from alerts.actions.evaluation import missed_by
from alerts.actions.exercises import store_of, tick
from alerts.actions.periodic import run_every

log = logging.getLogger(__name__)


class ExerciseScheduler:
    """Runs ``tick`` every ``interval`` seconds while this process holds the scheduler lease."""

    def __init__(self, centre: Centre, *, interval: float = 0.5, lease_s: float = 5.0, holder: str | None = None):
        self.centre = centre
        self.interval = interval
        self.lease_ms = int(lease_s * 1000)
        self.holder = holder or secrets.token_hex(8)
        self._missed = missed_by(centre)

    def check(self) -> list[tuple[str, int]]:
        """One pass: ``(exercise id, inject)`` fired by it (none when another process holds the lease)."""
        if not store_of(self.centre).hold_lease(self.holder, self.lease_ms):
            return []
        return tick(self.centre, self._missed)

    def run(self, stop: threading.Event) -> None:
        """``check`` until ``stop`` is set; a failed pass is logged and retried."""
        run_every(stop, self.interval, self.check, "exercise scheduler pass", log)
