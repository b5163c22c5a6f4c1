"""The responder's work as plain functions: the queue of open alerts, and the actions on one.

The response-queue page's callbacks call these (and only these), so each
callback is a thin translation. Every action checks the viewer's permission
and that the alert is released to the viewer, then leaves an audit entry,
exactly like the HTTP API (``dashboard.workflow_api``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alerts.escalation import Case, next_deadline, urgency
from alerts.model import Severity, StoredAlert
from alerts.query import AlertQuery
from alerts.roles import Permission
from alerts.workflow import CaseState, Mark
from dashboard.auth import Viewer
from dashboard.services import Services

#: Open alerts ranked cheaply (escalation level, severity, acknowledgment deadline)
#: before the full state of the most urgent ones is read.
PRESELECT = 300


class ActionRefused(Exception):
    """Why an action was not done, in words for the responder."""


@dataclass(frozen=True)
class QueueEntry:
    stored: StoredAlert
    state: CaseState | None
    level: int
    deadline: datetime | None

    @property
    def acknowledged(self) -> Mark | None:
        return self.state.ack if self.state else None

    @property
    def status(self) -> str:
        if self.state and self.state.done:
            return "in progress"
        return "acknowledged" if self.acknowledged else "new"


def open_queue(services: Services, viewer: Viewer, limit: int = 50) -> list[QueueEntry]:
    """Open alerts the viewer may see, most urgent first."""
    policy = services.settings.escalation_policy
    rows = services.index.select(viewer.restrict(AlertQuery(status="open"), services.settings))
    ids = list(rows["id"])
    levels = services.workflow.escalation_levels(ids)
    grace = {s.value: policy.deadline(s) for s in Severity}
    ranked = sorted(zip(ids, rows["severity"], rows["received_at"]),
                    key=lambda r: urgency(levels.get(r[0], 0), Severity(r[1]), r[2].to_pydatetime() + grace[r[1]]))
    chosen = [alert_id for alert_id, _, _ in ranked[:PRESELECT]]
    states = services.workflow.states(chosen)
    entries = []
    for alert_id in chosen:
        stored = services.index.get(alert_id)
        state = states.get(alert_id)
        if stored is None or (state is not None and state.resolution is not None):
            continue
        case = state.case() if state else Case(alert_id, stored.alert.title, stored.alert.severity,
                                               stored.received_at, acknowledged=False)
        entries.append(QueueEntry(stored, state, case.level, next_deadline(case, policy)))
    entries.sort(key=lambda e: urgency(e.level, e.stored.alert.severity, e.deadline))
    return entries[:limit]


def _visible(services: Services, viewer: Viewer, alert_id: str) -> StoredAlert:
    stored = services.index.get(alert_id, viewer.restrict(AlertQuery(), services.settings))
    if stored is None:
        raise ActionRefused("No such alert.")
    return stored


def _require(viewer: Viewer, permission: Permission, what: str) -> None:
    if not viewer.can(permission):
        raise ActionRefused(f"Your role ({viewer.role.replace('_', ' ')}) may not {what}.")


def case_for(services: Services, viewer: Viewer, alert_id: str) -> tuple[StoredAlert, CaseState | None]:
    """An alert the viewer may see and its response state (its checklist opened if it had none)."""
    stored = _visible(services, viewer, alert_id)
    state = services.workflow.state(alert_id)
    if state is None and services.workflow.open_checklists([stored]):
        state = services.workflow.state(alert_id)
    return stored, state


def acknowledge(services: Services, viewer: Viewer, alert_id: str) -> str:
    _require(viewer, Permission.ACKNOWLEDGE, "acknowledge alerts")
    stored, _ = case_for(services, viewer, alert_id)
    first, mark = services.workflow.acknowledge(alert_id, viewer.name)
    if not first:
        raise ActionRefused(f"Already acknowledged by {mark.by}.")
    services.audit.append(viewer.name, "alert.acknowledge", alert_id, {"via": "queue"})
    return f"Acknowledged: {stored.alert.title}"


def complete_step(services: Services, viewer: Viewer, alert_id: str, n: int, note: str) -> str:
    from alerts.workflow import WorkflowError

    _require(viewer, Permission.COMPLETE_STEP, "complete checklist steps")
    case_for(services, viewer, alert_id)
    note = (note or "").strip()[:2000]
    try:
        services.workflow.complete_step(alert_id, n, viewer.name, note)
    except WorkflowError as exc:
        mark = getattr(exc, "mark", None)
        raise ActionRefused(f"Step {n} was already done by {mark.by}." if mark else f"Not done: {exc}.") from None
    services.audit.append(viewer.name, "checklist.step_done", alert_id, {"step": n, "note": note, "via": "queue"})
    return f"Step {n} done."


def resolve(services: Services, viewer: Viewer, alert_id: str) -> str:
    from alerts.workflow import WorkflowError

    _require(viewer, Permission.RESOLVE, "resolve alerts")
    stored = _visible(services, viewer, alert_id)
    try:
        services.workflow.resolve(alert_id, viewer.name)
    except WorkflowError as exc:
        mark = getattr(exc, "mark", None)
        raise ActionRefused(f"Already resolved by {mark.by}." if mark else f"Not resolved: {exc}.") from None
    services.audit.append(viewer.name, "alert.resolve", alert_id, {"via": "queue"})
    return f"Resolved: {stored.alert.title}"
