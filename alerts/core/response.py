"""The response to one alert: its state, and the rules for acknowledging, working and closing it.

Status moves ``new`` -> ``acknowledged`` (the first acknowledgment) ->
``in_progress`` (the first step done) -> ``resolved``; ``cancelled`` (by a
later message) and ``expired`` (its validity ended) close it too. It only ever moves forward, so concurrent
writers that each advance it (an acknowledgment, a step, a resolution) can
never move it back (``advanced``). A step needs an acknowledgment first, and
nothing is done on a closed alert: one rule, ``check_open``, for every action (acknowledge, a checklist
step, resolve, tasking an asset; releasing one stays allowed, so nothing is left committed to it).

The atomic "first one wins" parts (one acknowledgment, each step once, one
resolution) are the store's (``alerts.store.workflow``); the decisions are here.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from alerts.core.checklists import ChecklistStep
from alerts.core.escalation import Case, StepState
from alerts.core.model import Severity, Status, StoredAlert
from alerts.core.refusals import N_, Refusal

_RANK = {Status.NEW: 0, Status.ACKNOWLEDGED: 1, Status.IN_PROGRESS: 2, Status.RESOLVED: 3, Status.CANCELLED: 3,
         Status.EXPIRED: 3}


def advanced(current: Status, target: Status) -> Status | None:
    """The status after moving ``current`` towards ``target``, or None if that changes nothing.

    A closed alert (resolved or cancelled) stays closed; an open one never moves back.
    """
    if not current.is_open or _RANK[target] <= _RANK[current]:
        return None
    return target


class WorkflowError(Refusal):
    """An action that cannot be done in the alert's current state; the message says why (``Refusal``)."""


class NoChecklist(WorkflowError):
    """The alert has no checklist (e.g. it was cancelled before one was opened)."""


class NoSuchStep(WorkflowError):
    """The step number is outside the checklist."""


class NotAcknowledged(WorkflowError):
    """A step was attempted before anyone acknowledged the alert."""


@dataclass
class AlreadyDone(WorkflowError):
    """The step (or the resolution, or the acknowledgment) was done before: ``mark`` says by whom and when."""

    mark: "Mark"

    def __post_init__(self) -> None:
        super().__init__(N_("already done by %(by)s at %(at)s"), {"by": self.mark.by, "at": self.mark.at})

    def __str__(self) -> str:
        return f"already done by {self.mark.by} at {self.mark.at}"


class AlreadyClosed(WorkflowError):
    """The alert is closed: resolved, cancelled or expired."""


@dataclass(frozen=True)
class Mark:
    """Who did something and when (``at``: ISO 8601 UTC text), with an optional note."""

    by: str
    at: str
    note: str = ""

    def json(self) -> str:
        """The stored form: ``{"by", "at", "note"}``."""
        return json.dumps({"by": self.by, "at": self.at, "note": self.note})

    @classmethod
    def parse(cls, raw: bytes | str | None) -> "Mark | None":
        """The mark stored as ``raw`` (None for nothing stored)."""
        if not raw:
            return None
        data = json.loads(raw)
        return cls(data["by"], data["at"], data.get("note", ""))


@dataclass(frozen=True)
class CaseState:
    """Everything about one alert's response: its checklist and what was done of it."""

    alert_id: str
    title: str
    severity: Severity
    received_at: datetime
    steps: list[ChecklistStep]
    done: dict[int, Mark] = field(default_factory=dict)
    ack: Mark | None = None
    resolution: Mark | None = None
    escalation: dict | None = None  # {level, reason, at, cause} of the highest level reached

    @property
    def escalation_level(self) -> int:
        """0 (none), 1 (duty desk) or 2 (leadership)."""
        return int(self.escalation["level"]) if self.escalation else 0

    @property
    def open_steps(self) -> list[ChecklistStep]:
        """The steps not done yet. Work is open while there are any: resolving then asks for confirmation
        first (a final action confirms when work is open), and a resolved alert leaves them undone."""
        return [s for s in self.steps if s.n not in self.done]

    def case(self, open_: bool = True) -> Case:
        """What escalation needs to know (``alerts.core.escalation.Case``)."""
        return Case(
            alert_id=self.alert_id, title=self.title, severity=self.severity, received_at=self.received_at,
            acknowledged=self.ack is not None,
            steps=tuple(StepState(s.n, s.due_at, s.n in self.done) for s in self.steps),
            level=self.escalation_level, open=open_ and self.resolution is None,
        )


def check_step(state: CaseState | None, n: int) -> None:
    """Raise why step ``n`` cannot be done now (NoChecklist, NoSuchStep, AlreadyClosed, NotAcknowledged)."""
    if state is None:
        raise NoChecklist(N_("this alert has no checklist"))
    if not 1 <= n <= len(state.steps):
        raise NoSuchStep(N_("step %(step)s (this checklist has %(steps)s)"), {"step": n, "steps": len(state.steps)})
    if state.resolution is not None:
        raise AlreadyClosed(N_("the alert is resolved"))
    if state.ack is None:
        raise NotAcknowledged(N_("acknowledge the alert before working its checklist"))
    if n in state.done:
        raise AlreadyDone(state.done[n])


def check_open(stored: StoredAlert | None, state: CaseState | None = None) -> None:
    """The rule for every action on an alert's response (acknowledge, a checklist step, resolve, task an
    asset): raise ``AlreadyClosed`` when the alert is closed: its stored status resolved, cancelled or
    expired (also an alert recorded expired on arrival, and an exercise inject's alert after ENDEX), or its
    response (``state``) resolved. ``stored`` None (not known): nothing to refuse here."""
    if stored is not None and not stored.status.is_open:
        raise AlreadyClosed(N_("the alert is %(status)s"), {"status": stored.status.value})
    if state is not None and state.resolution is not None:
        raise AlreadyClosed(N_("the alert is resolved"))


def check_resolve(stored: StoredAlert | None) -> None:
    """``check_open`` for a resolution, except that a resolved alert is answered by the store (naming who
    resolved it first)."""
    if stored is not None and stored.status != Status.RESOLVED:
        check_open(stored)
