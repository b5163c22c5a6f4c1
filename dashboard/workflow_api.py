"""The response workflow over HTTP: acknowledge an alert, work its checklist, resolve it.

Every route checks the caller's permission first (403), then that the alert
is released to the caller (404 otherwise, exactly as if it did not exist).
Each change is appended to the audit trail. The rules and their atomicity
live in ``alerts.workflow``; these handlers only translate.
"""
from __future__ import annotations

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.model import StoredAlert
from alerts.query import AlertQuery
from alerts.roles import Permission
from alerts.workflow import AlreadyClosed, AlreadyDone, CaseState, NoChecklist, NoSuchStep, NotAcknowledged
from dashboard import services as services_module
from dashboard.auth import Viewer, current_viewer, require

router = APIRouter(prefix="/api/v1")


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(default="", max_length=2000)


def _visible(alert_id: str, viewer: Viewer) -> StoredAlert:
    services = services_module.current()
    stored = services.index.get(alert_id, viewer.restrict(AlertQuery(), services.settings))
    if stored is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    return stored


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def case_state(stored: StoredAlert) -> CaseState:
    """The alert's response state, opening its checklist first if ingest has not (yet)."""
    workflow = services_module.current().workflow
    state = workflow.state(stored.id)
    if state is None:
        workflow.open_checklists([stored])
        state = workflow.state(stored.id)
    if state is None:  # a cancelled alert has no checklist
        raise HTTPException(404, f"alert {stored.id!r} has no checklist ({stored.status.value})")
    return state


def step_json(state: CaseState, n: int) -> dict:
    step = state.steps[n - 1]
    done = state.done.get(n)
    return {"n": n, "title": step.title, "role": step.role, "due_at": step.due_at.isoformat(),
            "done_by": done.by if done else None, "done_at": done.at if done else None,
            "note": done.note if done else None}


def checklist_json(stored: StoredAlert, state: CaseState) -> dict:
    mark = lambda m: {"by": m.by, "at": m.at} if m else None  # noqa: E731
    return {
        "alert_id": stored.id,
        "status": stored.status.value,
        "acknowledged": mark(state.ack),
        "resolved": {"by": state.resolution.by, "at": state.resolution.at, "note": state.resolution.note}
        if state.resolution else None,
        "escalation_level": state.escalation_level,
        "escalation": state.escalation,
        "steps": [step_json(state, s.n) for s in state.steps],
    }


@router.get("/alerts/{alert_id:path}/checklist", summary="An alert's checklist, acknowledgment and escalation")
def get_checklist(alert_id: str, viewer: Viewer = Depends(current_viewer)) -> dict:
    stored = _visible(alert_id, viewer)
    state = case_state(stored)
    fresh = services_module.current().store.get(alert_id) or stored  # the status just written, not yet followed
    return checklist_json(fresh, state)


@router.post("/alerts/{alert_id:path}/ack", summary="Acknowledge an alert (the first wins; later ones get 409)")
def acknowledge(alert_id: str, request: Request, viewer: Viewer = Depends(current_viewer)):
    require(viewer, Permission.ACKNOWLEDGE)
    stored = _visible(alert_id, viewer)
    services = services_module.current()
    case_state(stored)
    first, mark = services.workflow.acknowledge(alert_id, viewer.name)
    body = {"by": mark.by, "at": mark.at}
    if not first:
        return JSONResponse({**body, "detail": "already acknowledged"}, status_code=409)
    services.audit.append(viewer.name, "alert.acknowledge", alert_id, {}, _ip(request))
    return body


@router.post("/alerts/{alert_id:path}/checklist/{n}/done", summary="Mark checklist step n done, with an optional note")
def complete_step(alert_id: str, n: int, request: Request, body: NoteBody | None = Body(None),
                  viewer: Viewer = Depends(current_viewer)):
    require(viewer, Permission.COMPLETE_STEP)
    stored = _visible(alert_id, viewer)
    services = services_module.current()
    case_state(stored)
    note = body.note if body else ""
    try:
        services.workflow.complete_step(alert_id, n, viewer.name, note)
    except NoSuchStep as exc:
        raise HTTPException(404, f"no {exc}") from None
    except AlreadyDone as exc:
        return JSONResponse({"detail": "already done", "done_by": exc.mark.by, "done_at": exc.mark.at},
                            status_code=409)
    except (NotAcknowledged, AlreadyClosed, NoChecklist) as exc:
        raise HTTPException(409, str(exc)) from None
    services.audit.append(viewer.name, "checklist.step_done", alert_id, {"step": n, "note": note}, _ip(request))
    return step_json(services.workflow.state(alert_id), n)


@router.post("/alerts/{alert_id:path}/resolve", summary="Resolve an alert (duty officers)")
def resolve(alert_id: str, request: Request, body: NoteBody | None = Body(None),
            viewer: Viewer = Depends(current_viewer)):
    require(viewer, Permission.RESOLVE)
    stored = _visible(alert_id, viewer)
    services = services_module.current()
    note = body.note if body else ""
    try:
        mark = services.workflow.resolve(alert_id, viewer.name, note)
    except AlreadyDone as exc:
        return JSONResponse({"detail": "already resolved", "by": exc.mark.by, "at": exc.mark.at}, status_code=409)
    except AlreadyClosed as exc:
        raise HTTPException(409, str(exc)) from None
    services.audit.append(viewer.name, "alert.resolve", stored.id, {"note": note}, _ip(request))
    return {"by": mark.by, "at": mark.at, "note": mark.note}
