"""Sharing over HTTP: the Unrouted view, releases, releasability changes and requests.

| route | who | what |
|-------|-----|------|
| ``GET /unrouted`` | admins | unrouted alerts within the caller's clearance, with their origin and why they are unrouted |
| ``POST /unrouted/{id}/release`` | admins | release to ``releasable_to`` (and set the reporting ``nation`` when unknown), with a ``reason`` |
| ``POST /alerts/{id}/releasability`` | duty officers (admins for alerts of unknown origin) | change it (200) when the caller's nation originated the alert, else ask that nation (202) |
| ``GET /releasability-requests`` | duty officers, admins | the requests the caller decides or made (``state``: pending by default) |
| ``POST /releasability-requests/{rid}/approve`` / ``decline`` | the originating nation's duty officers | decide, with an optional ``note`` |

Every step is audited (who, when, from, to, why) and pushed live; the work
is ``alerts.actions.sharing``'s.
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.actions import sharing
from alerts.core.model import Routing
from alerts.core.query import Page
from alerts.core.sharing import MAX_REASON, ReleasabilityRequest, RequestState
from alerts.core.viewer import Viewer
from dashboard.api.alerts import alert_json, viewers_eyes
from dashboard.api.models import AlertOut, errors
from dashboard.auth.context import caller, services_of
from dashboard.params import MAX_OFFSET, client_address
from dashboard.services import Services

router = APIRouter()


class ReleaseBody(BaseModel):
    """Release an unrouted alert: to whom, its reporting nation when the message did not say, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    releasable_to: list[str] = Field(min_length=1, max_length=250,
                                     description="ISO 3166-1 alpha-2 codes (Kosovo: XK), or [\"ALL\"]")
    nation: str | None = Field(default=None, description="the reporting nation, when the alert has none")
    reason: str = Field(min_length=1, max_length=MAX_REASON)


class ChangeBody(BaseModel):
    """A new releasability for an alert, and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    releasable_to: list[str] = Field(min_length=1, max_length=250,
                                     description="ISO 3166-1 alpha-2 codes (Kosovo: XK), or [\"ALL\"]; the "
                                                 "reporting nation is always kept")
    reason: str = Field(min_length=1, max_length=MAX_REASON)


class DecisionBody(BaseModel):
    """An optional note with an approval or a refusal."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(default="", max_length=MAX_REASON)


class RequestOut(BaseModel):
    """A releasability change request (``alerts.core.sharing.ReleasabilityRequest``)."""

    model_config = ConfigDict(extra="allow")

    id: str
    alert_id: str
    requested_by: str
    requested_nation: str | None
    at: str
    before: list[str]
    after: list[str]
    reason: str
    decides: str | None = Field(description="the nation whose duty officers decide; null: the centre's admins")
    state: str = Field(description="pending, approved or declined")


class RequestList(BaseModel):
    """Releasability change requests, newest first."""

    items: list[RequestOut]


class ChangeOut(BaseModel):
    """What a releasability change did: ``changed`` (with the alert) or ``requested`` (with the request)."""

    outcome: Literal["changed", "requested"]
    alert: AlertOut | None = None
    request: RequestOut | None = None


class UnroutedPage(BaseModel):
    """A page of unrouted alerts, newest report first."""

    total: int
    limit: int
    offset: int
    items: list[AlertOut]


def routing_json(routing: Routing) -> dict[str, Any]:
    """An alert's routing as the API shows it (``classification`` null: the lowest level)."""
    return routing.model_dump(mode="json") | {"routed": routing.routed}


def request_json(request: ReleasabilityRequest) -> dict[str, Any]:
    """A request as the API shows it."""
    return request.model_dump(mode="json")


@router.get("/unrouted", summary="Alerts held as unrouted (no releasability decided), for admins to release",
            response_model=UnroutedPage, responses=errors(403))
def list_unrouted(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                  viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """Each with ``routing.origin`` (what the message says of its sender) and ``routing.reason``."""
    result = sharing.unrouted(services.centre, viewer, Page(limit, offset))
    return {"total": result.total, "limit": limit, "offset": offset,
            "items": [alert_json(s) | {"routing": routing_json(s.routing)} for s in result.alerts]}


@router.post("/unrouted/{alert_id:path}/release", summary="Release an unrouted alert to named nations",
             response_model=AlertOut, responses=errors(403, 404, 409, 422))
def release_unrouted(alert_id: str, request: Request, body: ReleaseBody = Body(...),
                     viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """The alert reaches those nations' open pages live and its checklist opens, due from now."""
    stored = sharing.release(services.centre, viewer, alert_id, body.releasable_to, body.reason,
                             nation=body.nation, ip=client_address(request))
    return alert_json(stored, viewers_eyes(services, viewer)) | {"routing": routing_json(stored.routing)}


@router.post("/alerts/{alert_id:path}/releasability",
             summary="Change an alert's releasability (its originating nation), or ask for a change (others)",
             response_model=ChangeOut, responses={202: {"model": ChangeOut, "description": "requested"},
                                                  **errors(403, 404, 409, 422)})
def change_releasability(alert_id: str, request: Request, body: ChangeBody = Body(...),
                         viewer: Viewer = Depends(caller), services: Services = Depends(services_of)):
    """200 ``changed`` when the caller decides; 202 ``requested`` when the originating nation must approve."""
    outcome, result = sharing.change_releasability(services.centre, viewer, alert_id, body.releasable_to,
                                                   body.reason, ip=client_address(request))
    if outcome == "changed":
        return {"outcome": outcome, "alert": alert_json(result, viewers_eyes(services, viewer))
                | {"routing": routing_json(result.routing)}}
    return JSONResponse({"outcome": outcome, "request": request_json(result)}, status_code=202)


@router.get("/releasability-requests", summary="Releasability change requests the caller decides or made",
            response_model=RequestList)
def list_requests(state: Literal["pending", "approved", "declined", "all"] = "pending",
                  viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """Only requests about alerts the caller may see."""
    wanted = None if state == "all" else RequestState(state)
    return {"items": [request_json(r) for r in sharing.requests_for(services.centre, viewer, wanted)]}


@router.post("/releasability-requests/{request_id}/{decision}", summary="Approve or decline a request",
             response_model=RequestOut, responses=errors(403, 404, 409, 422))
def decide_request(request_id: str, decision: Literal["approve", "decline"], request: Request,
                   body: DecisionBody | None = Body(None), viewer: Viewer = Depends(caller),
                   services: Services = Depends(services_of)) -> dict:
    """Approving applies the change at once (audited, pushed live)."""
    note = body.note if body is not None else ""
    decided = sharing.decide(services.centre, viewer, request_id, decision == "approve", note,
                             ip=client_address(request))
    return request_json(decided)
