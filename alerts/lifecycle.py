"""How an alert's workflow status moves: new -> acknowledged -> in_progress -> resolved (or cancelled).

Status only ever moves forward, so concurrent writers that each advance it
(an acknowledgment, a completed step, a resolution) can never move it back.
Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from alerts.model import Status

_RANK = {Status.NEW: 0, Status.ACKNOWLEDGED: 1, Status.IN_PROGRESS: 2, Status.RESOLVED: 3, Status.CANCELLED: 3}


def advanced(current: Status, target: Status) -> Status | None:
    """The status after moving ``current`` towards ``target``, or None if that changes nothing.

    A closed alert (resolved or cancelled) stays closed; an open one never moves back.
    """
    if not current.is_open or _RANK[target] <= _RANK[current]:
        return None
    return target
