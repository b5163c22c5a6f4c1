"""The critical alarm: which alerts sound it, and what a page is told of them.

An alert **alarms** while it is critical, open and not acknowledged by anyone
(status ``new``): from its arrival (or its release to the viewer) until someone
acknowledges it, or it is resolved, cancelled or expires. What the viewer may
see is decided before (the caller passes only alerts released to the viewer,
``alerts.actions.alarm``); this module only chooses and summarises.

A page is never sent every alarming alert: ``Alarm`` holds their ``count``,
how many of them are exercise play (``exercise``), and the ``NEWEST`` most
recently reported ones.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alerts.core.model import Severity, Status, StoredAlert

#: How many of the alarming alerts a page is told about by name (the rest only count).
NEWEST = 3
#: The rule, as data (``alerts.actions.alarm`` applies it to the read model's table): this severity, this status.
ALARM_SEVERITY = Severity.CRITICAL
ALARM_STATUS = Status.NEW


def alarms(stored: StoredAlert) -> bool:
    """Whether ``stored`` sounds the alarm: critical and still ``new`` (open, acknowledged by nobody)."""
    return stored.alert.severity is ALARM_SEVERITY and stored.status is ALARM_STATUS


@dataclass(frozen=True)
class Alarm:
    """What a page shows of the alarm: ``count`` alarming alerts, ``exercise`` of them exercise play, and the
    ``newest`` (at most ``NEWEST``, most recently reported first)."""

    count: int
    exercise: int
    newest: tuple[StoredAlert, ...]

    @property
    def headline(self) -> str:
        """What the banner says first: how many, ``EXERCISE`` when all are exercise play, else how many are."""
        if not self.count:
            return "No critical alert awaiting acknowledgment"
        kind = "EXERCISE " if self.exercise_only else ""
        mixed = f" ({self.exercise} EXERCISE)" if 0 < self.exercise < self.count else ""
        return f"{self.count} critical {kind}alert{'s' if self.count > 1 else ''}{mixed} awaiting acknowledgment"

    @property
    def exercise_only(self) -> bool:
        """Whether every alarming alert is exercise play (the banner then says EXERCISE in its own style)."""
        return self.count > 0 and self.exercise == self.count


def alarm_of(alerts: Iterable[StoredAlert], newest: int = NEWEST) -> Alarm:
    """The ``Alarm`` of ``alerts`` (those the viewer may see, in any order): only the alarming ones count."""
    ringing = sorted((a for a in alerts if alarms(a)), key=lambda a: (a.alert.reported_at, a.id), reverse=True)
    return Alarm(count=len(ringing), exercise=sum(1 for a in ringing if a.alert.exercise),
                 newest=tuple(ringing[:newest]))
