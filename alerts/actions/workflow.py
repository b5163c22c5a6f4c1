"""The response workflow as use cases: the queue, acknowledge, complete a step, resolve.

Each action checks the viewer's permission (``Forbidden``) and that the alert
is released to the viewer (``NotFound``), applies the rules of
``alerts.core.response`` (``Conflict`` with the reason; nothing is done on a closed alert, ``check_open``), writes through
``alerts.store.workflow`` (first one wins, atomically across processes) and
appends an audit event. ``via`` records where the action came from (``api``,
``queue``...), ``ip`` the caller's address.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.actions.centre import Centre
from alerts.actions.errors import Conflict, NotFound
from alerts.actions.visibility import require, restricted, visible_alert
from alerts.core.escalation import Case, next_deadline, urgency
from alerts.core.events import Acknowledged, Resolved, StepCompleted
from alerts.core.model import Severity, StoredAlert
from alerts.core.query import AlertQuery
from alerts.core.response import (
    AlreadyDone,
    CaseState,
    Mark,
    NoSuchStep,
    WorkflowError,
    check_open,
    check_resolve,
    check_step,
)
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.i18n import N_

#: Open alerts ranked cheaply (escalation level, severity, acknowledgment deadline)
#: before the full state of the most urgent ones is read.
PRESELECT = 300
NOTE_MAX = 2000


@dataclass(frozen=True)
class QueueEntry:
    """One open alert in the response queue, with its state, escalation level and next deadline."""

    stored: StoredAlert
    state: CaseState | None
    level: int
    deadline: datetime | None

    @property
    def acknowledged(self) -> Mark | None:
        """Who acknowledged it and when, if anyone did."""
        return self.state.ack if self.state else None

    @property
    def status(self) -> str:
        """``new``, ``acknowledged`` or ``in progress`` (as the queue shows it)."""
        if self.state and self.state.done:
            return "in progress"
        return "acknowledged" if self.acknowledged else "new"


def open_queue(centre: Centre, viewer: Viewer, limit: int = 50) -> list[QueueEntry]:
    """At most ``limit`` open alerts the viewer may see, most urgent first (``alerts.core.escalation.urgency``)."""
    policy = centre.policy
    rows = centre.index.select(restricted(centre, viewer, AlertQuery(status="open")))
    ids = list(rows["id"])
    levels = centre.workflow.escalation_levels(ids)
    grace = {s.value: policy.deadline(s) for s in Severity}
    ranked = sorted(zip(ids, rows["severity"], rows["received_at"]),
                    key=lambda r: urgency(levels.get(r[0], 0), Severity(r[1]), r[2].to_pydatetime() + grace[r[1]]))
    chosen = [alert_id for alert_id, _, _ in ranked[:PRESELECT]]
    states = centre.workflow.states(chosen)
    entries = []
    for alert_id, stored in zip(chosen, centre.index.get_many(chosen)):
        state = states.get(alert_id)
        if stored is None or (state is not None and state.resolution is not None):
            continue
        case = state.case() if state else Case(alert_id, stored.alert.title, stored.alert.severity,
                                               stored.received_at, acknowledged=False)
        entries.append(QueueEntry(stored, state, case.level, next_deadline(case, policy)))
    entries.sort(key=lambda e: urgency(e.level, e.stored.alert.severity, e.deadline))
    return entries[:limit]


def open_count(centre: Centre, viewer: Viewer) -> int:
    """How many open alerts the viewer may see (``open_queue`` lists the ``limit`` most urgent of them)."""
    return len(centre.index.select(restricted(centre, viewer, AlertQuery(status="open"))))


def case_for(centre: Centre, viewer: Viewer, alert_id: str) -> tuple[StoredAlert, CaseState | None]:
    """An alert the viewer may see and its response state (its checklist opened if ingest has not yet).

    The state is None for an alert that gets no checklist (a cancelled one).
    """
    stored = visible_alert(centre, viewer, alert_id)
    state = centre.workflow.state(alert_id)
    if state is None and centre.workflow.open_checklists([stored]):
        state = centre.workflow.state(alert_id)
    return stored, state


def checklist(centre: Centre, viewer: Viewer, alert_id: str) -> tuple[StoredAlert, CaseState]:
    """``case_for``, with the freshest stored status; ``NotFound`` when the alert has no checklist."""
    stored, state = case_for(centre, viewer, alert_id)
    if state is None:
        raise NotFound(N_("alert %(alert)s has no checklist (%(status)s)"),
                       values={"alert": repr(stored.id), "status": stored.status.value})
    return centre.alerts.get(alert_id) or stored, state


def _now(centre: Centre) -> str:
    return centre.clock().isoformat()


def _check_open(centre: Centre, alert_id: str, state: CaseState | None) -> None:
    try:
        check_open(centre.alerts.get(alert_id), state)
    except WorkflowError as exc:
        raise Conflict.of(exc) from None


def acknowledge(centre: Centre, viewer: Viewer, alert_id: str, *, via: str = "", ip: str = "") -> Mark:
    """Acknowledge: the first acknowledgment wins; every later one is a ``Conflict`` naming the first (by, at)."""
    require(viewer, Permission.ACKNOWLEDGE)
    stored, state = case_for(centre, viewer, alert_id)
    _check_open(centre, alert_id, state)
    first, mark = centre.workflow.acknowledge(stored.id, Mark(viewer.name, _now(centre)))
    if not first:
        raise Conflict(N_("already acknowledged by %(by)s"), values={"by": mark.by}, by=mark.by, at=mark.at)
    centre.record(viewer, Acknowledged(stored.id, via=via), ip)
    return mark


def complete_step(centre: Centre, viewer: Viewer, alert_id: str, n: int, note: str = "", *,
                  via: str = "", ip: str = "") -> Mark:
    """Mark step ``n`` (from 1) done with an optional note (at most 2,000 characters kept)."""
    require(viewer, Permission.COMPLETE_STEP)
    stored, state = case_for(centre, viewer, alert_id)
    note = (note or "").strip()[:NOTE_MAX]
    mark = Mark(viewer.name, _now(centre), note)
    try:
        check_open(centre.alerts.get(alert_id))
        check_step(state, n)
        first = centre.workflow.mark_step(stored.id, n, mark)
        if first is not None:
            raise AlreadyDone(first)
    except NoSuchStep:
        raise NotFound(N_("no step %(step)s (this checklist has %(steps)s)"),
                       values={"step": n, "steps": len(state.steps)}) from None
    except AlreadyDone as exc:
        raise Conflict(N_("step %(step)s was already done by %(by)s"), values={"step": n, "by": exc.mark.by},
                       done_by=exc.mark.by,
                       done_at=exc.mark.at) from None
    except WorkflowError as exc:
        raise Conflict.of(exc) from None
    centre.record(viewer, StepCompleted(stored.id, step=n, note=note, via=via), ip)
    return mark


def resolve(centre: Centre, viewer: Viewer, alert_id: str, note: str = "", *, via: str = "",
            ip: str = "") -> Mark:
    """Resolve the alert (duty officers); a second resolution is a ``Conflict`` naming the first."""
    require(viewer, Permission.RESOLVE)
    stored = visible_alert(centre, viewer, alert_id)
    note = (note or "").strip()[:NOTE_MAX]
    mark = Mark(viewer.name, _now(centre), note)
    try:
        check_resolve(centre.alerts.get(alert_id))
    except WorkflowError as exc:
        raise Conflict.of(exc) from None
    first = centre.workflow.resolve(stored.id, mark)
    if first is not None:
        raise Conflict(N_("already resolved by %(by)s"), values={"by": first.by}, by=first.by, at=first.at)
    centre.record(viewer, Resolved(stored.id, note=note, via=via), ip)
    return mark
