"""Exercises over HTTP: MSEL upload, exercise control, evaluation, observations, training records.

| route | who | what |
|-------|-----|------|
| ``GET /exercises`` | everyone | the exercises the caller may know of (players: only those their nation is in, without the MSEL) |
| ``POST /exercises?name=NAME[&speed=F]`` | exercise control | body: the MSEL (CSV or XLSX bytes); 201 with the planned exercise; 422 naming every problem by row and column |
| ``GET /exercises/{id}`` | as the list | one exercise; with its injects (state, due time) for control and evaluators |
| ``POST /exercises/{id}/start``, ``/pause``, ``/resume``, ``/end`` | exercise control | STARTEX, pause, resume, ENDEX (409 when the state does not allow it) |
| ``POST /exercises/{id}/injects/{n}/fire``, ``/skip`` | exercise control | fire now (sent at once), or drop an inject |
| ``POST /exercises/stop-all`` | exercise control | the real-world stop: ``{"reason": ...}``; ends every exercise now, announced on every page |
| ``GET /exercises/{id}/evaluation`` | control, evaluators | expected actions scored per inject and nation, and the observations |
| ``POST /exercises/{id}/observations`` | control, evaluators | ``{"inject": n, "text": ..., "rating": "P"/"S"/"M"/"U"}`` |
| ``GET /training/{user}`` | the user, its nation's leadership, control, evaluators | the user's exercise participation |

Everything is audited; the work is ``alerts.actions.exercises`` and ``alerts.actions.evaluation``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.actions import evaluation, exercises
from alerts.actions.errors import Invalid
from alerts.core.exercises import Exercise
from alerts.core.injects import sent_alert_ids
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from dashboard.api.models import errors
from dashboard.auth.context import caller, services_of
from dashboard.services import Services

router = APIRouter()
#: The largest MSEL accepted over HTTP (bytes).
MAX_UPLOAD = 20 * 1024 * 1024


class StopBody(BaseModel):
    """Why play stops (shown on every page)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=300)


class ObservationBody(BaseModel):
    """An evaluator's observation, optionally about one inject, optionally rated (HSEEP P/S/M/U)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    inject: int | None = Field(default=None, ge=1)
    text: str = Field(min_length=1, max_length=evaluation.MAX_OBSERVATION)
    rating: Literal["P", "S", "M", "U"] | None = None


class ExerciseOut(BaseModel):
    """An exercise; ``injects`` only for exercise control and evaluators."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    state: str = Field(description="planned, running, paused or ended")
    nations: list[str]
    startex: str | None
    endex: str | None
    end_reason: str | None
    injects: list[dict] | None = None


def exercise_json(ex: Exercise, viewer: Viewer, now: datetime) -> dict[str, Any]:
    """``ex`` as ``viewer`` may see it at ``now`` (the MSEL only for control and evaluators)."""
    shown: dict[str, Any] = {
        "id": ex.id, "name": ex.name, "state": ex.state.value, "nations": list(ex.nations),
        "startex": ex.startex.isoformat() if ex.startex else None, "endex": ex.endex.isoformat() if ex.endex else None,
        "end_reason": ex.end_reason}
    if exercises.controls(viewer):
        shown["objectives"] = list(ex.objectives)
        shown["speed"] = ex.speed
        shown["injects"] = [
            inject.model_dump(mode="json", exclude={"payload"}) | {
                "state": ex.inject_state(inject.number).value,
                "due_at": (due.isoformat() if (due := ex.due_at(inject.number, now)) else None),
                "fired_at": ex.fired[inject.number].isoformat() if inject.number in ex.fired else None,
                "alert_ids": sent_alert_ids(ex, inject.number) if inject.number in ex.fired else None,
                "has_payload": inject.payload is not None}
            for inject in ex.injects]
    return shown


@router.get("/exercises", summary="Exercises the caller may know of", response_model=list[ExerciseOut])
def list_exercises(viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> list[dict]:
    """Newest first; players see only exercises their nation takes part in, without the MSEL."""
    now = services.centre.clock()
    return [exercise_json(e, viewer, now) for e in exercises.exercises(services.centre, viewer)]


@router.post("/exercises", summary="Load a MSEL (CSV or XLSX in the body) as a planned exercise",
             status_code=201, response_model=ExerciseOut, responses=errors(403, 409, 413, 422))
async def load_exercise(request: Request, name: str = Query(min_length=1, max_length=200),
                        speed: float = Query(1.0, ge=0.01, le=3600, allow_inf_nan=False),
                        viewer: Viewer = Depends(caller), services: Services = Depends(services_of)):
    """The MSEL columns are in the README; payload files cannot be uploaded here (use the command line)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD:
            return JSONResponse({"detail": f"a MSEL is at most {MAX_UPLOAD} bytes"}, status_code=413)
    if not data:
        raise Invalid(N_("send the MSEL file (CSV or XLSX) as the request body"))
    ex = exercises.load(services.centre, viewer, bytes(data), name, speed=speed)
    return JSONResponse(exercise_json(ex, viewer, services.centre.clock()), status_code=201)


@router.post("/exercises/stop-all", summary="Real-world stop: end every exercise now",
             responses=errors(403, 422))
def stop_all(body: StopBody = Body(...), viewer: Viewer = Depends(caller),
             services: Services = Depends(services_of)) -> dict:
    """Every page announces the stop; injects stop at once."""
    stopped = exercises.stop_all(services.centre, viewer, body.reason)
    return {"stopped": [e.id for e in stopped]}


@router.get("/exercises/{exercise_id}", summary="One exercise", response_model=ExerciseOut,
            responses=errors(404))
def get_exercise(exercise_id: str, viewer: Viewer = Depends(caller),
                 services: Services = Depends(services_of)) -> dict:
    """With its injects for exercise control and evaluators."""
    return exercise_json(exercises.exercise(services.centre, viewer, exercise_id), viewer, services.centre.clock())


@router.post("/exercises/{exercise_id}/observations", summary="Record an observation", status_code=201,
             responses=errors(403, 404, 422))
def add_observation(exercise_id: str, body: ObservationBody = Body(...), viewer: Viewer = Depends(caller),
                    services: Services = Depends(services_of)) -> dict:
    """Audited (``exercise.observe``)."""
    return evaluation.observe(services.centre, viewer, exercise_id, body.inject, body.text, body.rating)


@router.post("/exercises/{exercise_id}/{action}", summary="Start, pause, resume or end an exercise",
             response_model=ExerciseOut, responses=errors(403, 404, 409))
def control(exercise_id: str, action: Literal["start", "pause", "resume", "end"], viewer: Viewer = Depends(caller),
            services: Services = Depends(services_of)) -> dict:
    """409 when the exercise's state does not allow it (the body says its state)."""
    ex = getattr(exercises, action)(services.centre, viewer, exercise_id)
    return exercise_json(ex, viewer, services.centre.clock())


@router.post("/exercises/{exercise_id}/injects/{number}/{action}", summary="Fire an inject now, or skip it",
             response_model=ExerciseOut, responses=errors(403, 404, 409))
def inject_action(exercise_id: str, number: int, action: Literal["fire", "skip"], viewer: Viewer = Depends(caller),
                  services: Services = Depends(services_of)) -> dict:
    """Fire now sends the inject's alert to the inbox at once."""
    do = exercises.fire_now if action == "fire" else exercises.skip
    return exercise_json(do(services.centre, viewer, exercise_id, number), viewer, services.centre.clock())


@router.get("/exercises/{exercise_id}/evaluation", summary="Expected actions scored, and observations",
            responses=errors(403, 404))
def get_evaluation(exercise_id: str, viewer: Viewer = Depends(caller),
                   services: Services = Depends(services_of)) -> dict:
    """Per inject and ``to`` nation: met / missed / pending with the time taken."""
    return evaluation.evaluation(services.centre, viewer, exercise_id)


@router.get("/training/{user}", summary="A user's training record", responses=errors(403, 404))
def training(user: str, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """Exercises the user took part in, injects handled, expected actions met and times."""
    return evaluation.training(services.centre, viewer, user)
