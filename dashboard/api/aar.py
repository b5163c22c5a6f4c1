"""After-action review over HTTP (the work: ``alerts.actions.aar``; the rendering: ``alerts.formats.aar``).

| route | who | what |
|-------|-----|------|
| ``GET /exercises/{id}/aar?format=md\\|html\\|json\\|xlsx`` | control, evaluators | the exercise's AAR (audited ``export.aar``, as every AAR answer) |
| ``GET /aar?since=&until=&format=&include_exercise=`` | export permission | the AAR of a real incident window |
| ``POST /exercises/{id}/ratings`` | control, evaluators | ``{"objective": n, "rating": "P"/"S"/"M"/"U", "note": ...}`` |
| ``POST /exercises/{id}/improvements`` | control, evaluators | an improvement plan item ``{area, action, owner, due, status[, id]}`` |
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from alerts.actions import aar
from alerts.actions.errors import Invalid
from alerts.core.aar import Improvement
from alerts.core.viewer import Viewer
from alerts.formats import aar as aar_format
from alerts.i18n import N_
from dashboard.api.models import errors, html_export
from dashboard.api.replay import instant
from dashboard.auth.context import caller, services_of
from dashboard.params import client_address
from dashboard.services import Services

router = APIRouter()
Format = Literal["md", "html", "json", "xlsx"]


class RatingBody(BaseModel):
    """An evaluator's HSEEP rating of one objective (its number, from 1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    objective: int = Field(ge=1)
    rating: Literal["P", "S", "M", "U"]
    note: str = Field(default="", max_length=2000)


def _answer(report: dict, format: str) -> Response:
    if format == "md":
        return PlainTextResponse(aar_format.markdown(report), media_type="text/markdown; charset=utf-8")
    if format == "html":
        return html_export(aar_format.html(report))
    if format == "xlsx":
        return Response(aar_format.xlsx(report), media_type=aar_format.XLSX_MEDIA,
                        headers={"Content-Disposition": 'attachment; filename="aar.xlsx"'})
    return JSONResponse(report)


_FORMATS = {200: {"content": {"text/markdown": {}, "text/html": {}, aar_format.XLSX_MEDIA: {}},
                   "description": "the report as JSON, Markdown, HTML or an XLSX workbook (format=)"}}


@router.get("/exercises/{exercise_id}/aar", summary="The exercise's after-action report",
            responses={**_FORMATS, **errors(403, 404)})
def exercise_aar(exercise_id: str, request: Request, format: Format = Query("json"),
                 viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> Response:
    """Objectives rated P/S/M/U with evidence, response times per inject and nation, median and 90th
    percentile per nation, strengths, areas for improvement, the improvement plan; marked EXERCISE. Audited
    (``export.aar``)."""
    report = aar.exercise_report(services.centre, viewer, exercise_id)
    aar.audit_export(services.centre, viewer, report, format, ip=client_address(request))
    return _answer(report, format)


@router.get("/aar", summary="The after-action report of a real incident window",
            responses={**_FORMATS, **errors(403, 422)})
def incident_aar(request: Request, since: str = Query(..., description="ISO 8601 with offset"),
                 until: str = Query(..., description="ISO 8601 with offset"), format: Format = Query("json"),
                 include_exercise: bool = Query(False, description="count exercise alerts too (left out by default)"),
                 viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> Response:
    """Response times per alert and nation for the alerts that reached the caller in the window (recorded,
    released or widened to its nation then), real alerts only unless ``include_exercise``. Audited
    (``export.aar``)."""
    start, end = instant(since, "since", required=True), instant(until, "until", required=True)
    if start > end:
        raise Invalid(N_("since is after until"))
    report = aar.incident_report(services.centre, viewer, start, end, include_exercise)
    aar.audit_export(services.centre, viewer, report, format, ip=client_address(request))
    return _answer(report, format)


@router.post("/exercises/{exercise_id}/ratings", summary="Rate an objective (HSEEP P/S/M/U)", status_code=201,
             responses=errors(403, 404, 422))
def rate(exercise_id: str, body: RatingBody = Body(...), viewer: Viewer = Depends(caller),
         services: Services = Depends(services_of)) -> dict:
    """Audited (``exercise.rate``); a later rating of the objective replaces the earlier."""
    rated = aar.rate(services.centre, viewer, exercise_id, body.objective, body.rating, body.note)
    return rated.model_dump(mode="json")


@router.post("/exercises/{exercise_id}/improvements", summary="Add or change an improvement plan item",
             status_code=201, responses=errors(403, 404, 422))
def improve(exercise_id: str, body: Improvement = Body(...), viewer: Viewer = Depends(caller),
            services: Services = Depends(services_of)) -> dict:
    """Body: ``area``, ``action``, ``owner``, ``due`` (YYYY-MM-DD), ``status`` (open, in_progress, done) and,
    to change an item, its ``id``. Audited (``exercise.improvement``)."""
    return aar.plan(services.centre, viewer, exercise_id, body).model_dump(mode="json")
