"""Escalation: when an alert nobody answers, or a checklist step that is overdue, is pushed up.

Rules (deadlines per severity, defaults critical 2 min, high 5, medium 15,
low 60; see ``EscalationPolicy``):

- An open alert not acknowledged within its severity's deadline after it was
  received escalates to level 1 (the duty desk); still unacknowledged after a
  second deadline, to level 2 (leadership). Acknowledging stops this.
- A checklist step not done by its due time escalates to level 1; still not
  done one severity deadline later, to level 2.
- Levels only go up, one escalation per level; resolved or cancelled alerts
  never escalate.

``assess`` is the pure decision with ``now`` passed in; ``EscalationMonitor``
runs it over the open cases on a clock (injectable, so tests call ``check(now)``
with a moved clock instead of sleeping). Where cases come from and where an
escalation is recorded and announced is the caller's (``alerts.store.workflow``).
Domain core: no Redis, no Dash.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alerts.core.model import Severity

DEFAULT_DEADLINE_MINUTES: dict[Severity, float] = {
    Severity.CRITICAL: 2, Severity.HIGH: 5, Severity.MEDIUM: 15, Severity.LOW: 60,
}
LEVEL_AUDIENCE = {1: "duty", 2: "leadership"}
MAX_LEVEL = 2
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class EscalationPolicy:
    """Acknowledgment deadlines per severity, in minutes (``CRISIS_ESCALATION_MINUTES``)."""

    minutes: Mapping[Severity, float] = field(default_factory=lambda: dict(DEFAULT_DEADLINE_MINUTES))

    def deadline(self, severity: Severity) -> timedelta:
        """The deadline of ``severity`` as a duration."""
        return timedelta(minutes=self.minutes[severity])

    @classmethod
    def parse(cls, text: str) -> "EscalationPolicy":
        """``"critical=2,high=5,medium=15,low=60"`` (minutes; unnamed severities keep their default)."""
        minutes = dict(DEFAULT_DEADLINE_MINUTES)
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            try:
                severity = Severity(name.strip().lower())
                number = float(value)
            except ValueError:
                raise ValueError(f"escalation deadline {part!r}: expected severity=minutes, "
                                 f"severity one of {', '.join(s.value for s in Severity)}") from None
            if not sep or number <= 0:
                raise ValueError(f"escalation deadline {part!r}: minutes must be a positive number")
            minutes[severity] = number
        return cls(minutes)


@dataclass(frozen=True)
class StepState:
    """One checklist step as escalation sees it: its number, due time, whether it is done."""

    n: int
    due_at: datetime
    done: bool


@dataclass(frozen=True)
class Case:
    """What escalation needs to know about one alert's response."""

    alert_id: str
    title: str
    severity: Severity
    received_at: datetime
    acknowledged: bool
    steps: tuple[StepState, ...] = ()
    level: int = 0  # the level it has already been escalated to
    open: bool = True
    expires_at: datetime | None = None  # when its alert's validity ends (it then leaves the watched cases)


UNACKNOWLEDGED = "unacknowledged"
STEP_OVERDUE = "step_overdue"


@dataclass(frozen=True)
class Escalation:
    """A decided escalation: alert, level (1 duty desk, 2 leadership), reason, time and cause."""

    alert_id: str
    level: int
    reason: str
    at: datetime
    severity: Severity
    title: str
    cause: str = UNACKNOWLEDGED  # or STEP_OVERDUE: an acknowledgment does not answer that one

    def message(self) -> dict:
        """What is announced on the escalations channel."""
        return {"alert_id": self.alert_id, "level": self.level, "audience": LEVEL_AUDIENCE[self.level],
                "reason": self.reason, "at": self.at.isoformat(), "severity": self.severity.value,
                "title": self.title, "cause": self.cause}


def _level(late: timedelta, grace: timedelta) -> int:
    if late < timedelta(0):
        return 0
    return 2 if late >= grace else 1


def assess(case: Case, policy: EscalationPolicy, now: datetime) -> Escalation | None:
    """The escalation ``case`` is due at ``now``, if it is above the level already reached."""
    if not case.open or case.level >= MAX_LEVEL:
        return None
    grace = policy.deadline(case.severity)
    found: list[tuple[int, str, str]] = []
    if not case.acknowledged:
        minutes = f"{policy.minutes[case.severity]:g}"
        found.append((_level(now - (case.received_at + grace), grace),
                      f"not acknowledged within {minutes} min", UNACKNOWLEDGED))
    for step in case.steps:
        if not step.done:
            found.append((_level(now - step.due_at, grace), f"step {step.n} overdue", STEP_OVERDUE))
    level, reason, cause = max(found, key=lambda item: item[0], default=(0, "", ""))
    if level <= case.level:
        return None
    return Escalation(case.alert_id, level, reason, now, case.severity, case.title, cause)


def next_escalation_at(case: Case, policy: EscalationPolicy) -> datetime | None:
    """The first moment ``assess`` escalates ``case`` as it is now (nothing acknowledged or done meanwhile),
    or None: never (closed, at the top level, or acknowledged with every step done). Each cause (the missing
    acknowledgment from ``received_at``, each undone step from its ``due_at``) reaches level 1 at its time and
    level 2 one severity deadline later; the case escalates when a cause passes the level it has."""
    if not case.open or case.level >= MAX_LEVEL:
        return None
    starts = [step.due_at for step in case.steps if not step.done]
    if not case.acknowledged:
        starts.append(case.received_at + policy.deadline(case.severity))
    if not starts:
        return None
    return min(starts) + (policy.deadline(case.severity) if case.level >= 1 else timedelta(0))


def next_deadline(case: Case, policy: EscalationPolicy) -> datetime | None:
    """What the responder races against: the acknowledgment deadline, else the next undone step's."""
    if not case.open:
        return None
    if not case.acknowledged:
        return case.received_at + policy.deadline(case.severity)
    pending = [step.due_at for step in case.steps if not step.done]
    return min(pending) if pending else None


def urgency(level: int, severity: Severity, deadline: datetime | None) -> tuple:
    """Sort key, most urgent first: escalation level, then severity, then the nearest deadline."""
    return (-level, severity.rank, deadline or _FAR_FUTURE)
