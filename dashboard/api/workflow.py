"""The response workflow over HTTP: an alert's checklist, acknowledge, complete a step, resolve.

Every route: 403 when the caller's role may not, 404 when the alert is not
released to the caller (as if it did not exist), 409 when its state does not
allow it (with who was first, where that applies). The work and the audit
entry are ``alerts.actions.workflow``'s.
"""
from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts.actions import workflow
from alerts.core.model import StoredAlert
from alerts.core.response import CaseState
from alerts.core.viewer import Viewer
from dashboard.api.models import ChecklistOut, MarkOut, ResolutionOut, StepOut, errors
from dashboard.params import client_address
from dashboard.auth.context import caller, services_of
from dashboard.services import Services

router = APIRouter()


class NoteBody(BaseModel):
    """An optional note (at most 2,000 characters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(default="", max_length=2000)


def step_json(state: CaseState, n: int) -> dict:
    """Step ``n`` of a checklist as the API shows it."""
    step = state.steps[n - 1]
    done = state.done.get(n)
    return {"n": n, "title": step.title, "role": step.role, "due_at": step.due_at.isoformat(),
            "done_by": done.by if done else None, "done_at": done.at if done else None,
            "note": done.note if done else None}


def checklist_json(stored: StoredAlert, state: CaseState) -> dict:
    """An alert's response as the API shows it."""
    resolution = state.resolution
    return {
        "alert_id": stored.id,
        "status": stored.status.value,
        "acknowledged": {"by": state.ack.by, "at": state.ack.at} if state.ack else None,
        "resolved": {"by": resolution.by, "at": resolution.at, "note": resolution.note} if resolution else None,
        "escalation_level": state.escalation_level,
        "escalation": state.escalation,
        "steps": [step_json(state, s.n) for s in state.steps],
    }


@router.get("/alerts/{alert_id:path}/checklist", summary="An alert's checklist, acknowledgment and escalation",
            response_model=ChecklistOut, responses=errors(404))
def get_checklist(alert_id: str, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """The checklist is opened on first read if ingest has not opened it yet."""
    stored, state = workflow.checklist(services.centre, viewer, alert_id)
    return checklist_json(stored, state)


@router.post("/alerts/{alert_id:path}/ack", summary="Acknowledge an alert (the first wins; later ones get 409)",
             response_model=MarkOut, responses=errors(403, 404, 409))
def acknowledge(alert_id: str, request: Request, viewer: Viewer = Depends(caller),
                services: Services = Depends(services_of)) -> dict:
    """200 ``{by, at}`` for the first acknowledgment; 409 with the first one's ``{by, at}`` for every later one."""
    mark = workflow.acknowledge(services.centre, viewer, alert_id, via="api", ip=client_address(request))
    return {"by": mark.by, "at": mark.at}


@router.post("/alerts/{alert_id:path}/checklist/{n}/done", summary="Mark checklist step n done, with an optional note",
             response_model=StepOut, responses=errors(403, 404, 409, 422))
def complete_step(alert_id: str, n: int, request: Request, body: NoteBody | None = Body(None),
                  viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """409 if already done (``done_by``, ``done_at``) or not acknowledged yet; 404 for no such step."""
    centre = services.centre
    workflow.complete_step(centre, viewer, alert_id, n, body.note if body else "", via="api",
                           ip=client_address(request))
    return step_json(centre.workflow.state(alert_id), n)


@router.post("/alerts/{alert_id:path}/resolve", summary="Resolve an alert (duty officers)",
             response_model=ResolutionOut, responses=errors(403, 404, 409, 422))
def resolve(alert_id: str, request: Request, body: NoteBody | None = Body(None), viewer: Viewer = Depends(caller),
            services: Services = Depends(services_of)) -> dict:
    """409 if already resolved (with the first ``{by, at}``) or cancelled."""
    mark = workflow.resolve(services.centre, viewer, alert_id, body.note if body else "", via="api",
                            ip=client_address(request))
    return {"by": mark.by, "at": mark.at, "note": mark.note}
