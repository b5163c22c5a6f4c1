"""Replay over HTTP: the record's timeline and the picture at a moment, as the caller could see them.

| route | what |
|-------|------|
| ``GET /timeline?since=&until=&exercise=&limit=`` | the record's events in order (``alerts.core.record``), each only if the caller may see it |
| ``GET /state?at=ISO8601`` | the alerts (with status and acknowledgment) and assets as they stood at ``at`` for the caller |

Times are ISO 8601 with an offset; a time that is not one, a blank ``at``, or ``since`` after ``until``: 422
(a blank ``since`` / ``until`` is no bound). Who sees
what: ``alerts.actions.replay`` (the alerts' own releasability and clearance rule). The answers are
written straight as JSON in the shape of their response models (documented in ``/openapi.json``), not
validated again alert by alert: a scrub asks for thousands of alerts many times a second.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from alerts.actions import replay
from alerts.actions.errors import Invalid
from alerts.core.model import StoredAlert
from alerts.core.record import RecordEvent
from alerts.core.times import parse_instant
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from dashboard.api.alerts import alert_json
from dashboard.api.assets import asset_json
from dashboard.api.models import AlertOut, AssetOut, errors
from dashboard.auth.context import caller, services_of
from dashboard.services import Services

router = APIRouter()
#: Events one timeline answer holds unless ``limit`` says otherwise.
DEFAULT_EVENTS = 5_000
#: Alerts one state answer holds unless ``limit`` says otherwise (the newest reports).
DEFAULT_ALERTS = 10_000


class RecordEventOut(BaseModel):
    """One event of the record: ``id`` (its stream id, the order), ``at`` (the record's time, UTC), ``stream``
    (``alerts``, ``assets`` or ``audit``), ``kind`` (``alert.created`` / ``alert.updated`` / ``alert.routed``,
    ``asset.updated``, or the audit action, e.g. ``alert.acknowledge``), ``actor`` (who; audit events),
    ``object`` (alert id, asset id or exercise id), ``detail`` (the audit detail), and the whole ``alert`` or
    ``asset`` record after the change."""

    id: str
    at: str
    stream: str
    kind: str
    actor: str = ""
    object: str = ""
    detail: dict = Field(default_factory=dict)
    alert: AlertOut | None = None
    asset: AssetOut | None = None


class TimelineOut(BaseModel):
    """Events the caller may see, oldest first; ``truncated`` when more than ``limit`` matched;
    ``record_from``: the time of the oldest event the record still holds (older ones are archived)."""

    events: list[RecordEventOut]
    truncated: bool
    record_from: str | None


class StateAlertOut(AlertOut):
    """An alert as it stood, with who acknowledged it and when (None: not acknowledged then)."""

    acknowledged_by: str | None = None
    acknowledged_at: str | None = None


class StateOut(BaseModel):
    """The picture at ``at``: alerts (newest report first; ``truncated`` when more than ``limit`` were shown
    then; ``total``: how many the caller could see then, before ``limit``) and assets (by id) as the caller
    could see them."""

    at: str
    alerts: list[StateAlertOut]
    truncated: bool = False
    total: int
    assets: list[AssetOut]
    record_from: str | None


def instant(value: str | None, name: str, required: bool = False) -> datetime | None:
    """``value`` (ISO 8601 with an offset) as an aware time; None when absent or blank (empty or white space),
    unless ``required``; ``Invalid`` (422) naming ``name`` for a blank required value or one that is not a time."""
    if value is None or not value.strip():
        if required:
            raise Invalid(N_("%(name)s: give a time (ISO 8601 with an offset, e.g. 2026-01-01T10:00:00Z)"),
                          values={"name": name})
        return None
    try:
        return parse_instant(value, name)
    except ValueError as exc:  # a Refusal: localized in the sentence
        raise Invalid(N_("%(name)s: %(error)s"), values={"name": name, "error": exc}) from None


#: ``id(record) -> its JSON without superseded_by``, made once per record object the process holds (the parsed
#: records a seek or timeline showed: ``alerts.core.record.parsed_alert`` keeps the last ``PARSED_MOST``); an
#: entry goes with its object (``weakref.finalize``), so it never holds a record the replay let go of.
_SHOWN: dict[int, dict] = {}
_shown_lock = threading.Lock()


def recorded_alert_json(stored: StoredAlert, may_see: Callable[[str], bool]) -> dict:
    """``alert_json(stored, may_see)``, the viewer-independent part computed once per record object."""
    key = id(stored)
    with _shown_lock:
        held = _SHOWN.get(key)
    if held is None:
        held = alert_json(stored, lambda _id: False)
        with _shown_lock:
            if key not in _SHOWN:
                _SHOWN[key] = held
                weakref.finalize(stored, _forget_shown, key)
    body = dict(held)
    if stored.superseded_by and may_see(stored.superseded_by):
        body["superseded_by"] = stored.superseded_by
    return body


def _forget_shown(key: int) -> None:
    with _shown_lock:
        _SHOWN.pop(key, None)


def event_json(event: RecordEvent, may_see: Callable[[str], bool] = lambda _id: False) -> dict:
    """One event as ``RecordEventOut``; an alert's ``superseded_by`` only when ``may_see`` that alert."""
    return {"id": event.id, "at": event.at.isoformat(), "stream": event.stream, "kind": event.kind,
            "actor": event.actor, "object": event.object, "detail": event.detail,
            "alert": recorded_alert_json(event.alert, may_see) if event.alert is not None else None,
            "asset": asset_json(event.asset) if event.asset is not None else None}


@router.get("/timeline", summary="The record's events in order, as the caller may see them",
            response_model=TimelineOut, responses=errors(403, 404, 422))
def get_timeline(since: str | None = Query(None, description="ISO 8601 with offset; from (included)"),
                 until: str | None = Query(None, description="ISO 8601 with offset; to (included)"),
                 exercise: str | None = Query(None, max_length=100, description="only this exercise's events"),
                 limit: int = Query(DEFAULT_EVENTS, ge=1, le=replay.MAX_EVENTS,
                                    description="at most this many events (the oldest first); truncated says if more"),
                 viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> JSONResponse:
    """Alert changes, acknowledgments, steps, resolutions, escalations, asset positions and tasking,
    releasability changes, exercise control and observations, oldest first."""
    found = replay.timeline(services.centre, viewer, instant(since, "since"), instant(until, "until"),
                            exercise, limit)
    shown = {e.object for e in found.events if e.packed is not None}  # the alerts it shows: their replacements
    return JSONResponse({"events": [event_json(e, shown.__contains__) for e in found.events],
                         "truncated": found.truncated,
                         "record_from": found.record_from.isoformat() if found.record_from else None})


@router.get("/state", summary="Alerts and assets as they stood at a moment, for the caller",
            response_model=StateOut, responses=errors(403, 422))
def get_state(at: str = Query(..., description="ISO 8601 with offset"),
              limit: int = Query(DEFAULT_ALERTS, ge=1, le=replay.MAX_ALERTS,
                                 description="at most this many alerts (the newest reports); truncated and total "
                                             "say if there were more"),
              viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> JSONResponse:
    """Rebuilt from the record (not from today's state)."""
    picture = replay.state_at(services.centre, viewer, instant(at, "at", required=True), limit)
    shown = {stored.id for stored, _ in picture.alerts}
    return JSONResponse({
        "at": picture.at.isoformat(),
        "alerts": [recorded_alert_json(stored, shown.__contains__) | {
            "acknowledged_by": ack.by if ack else None,
            "acknowledged_at": ack.at.isoformat() if ack else None} for stored, ack in picture.alerts],
        "truncated": picture.truncated,
        "total": picture.total,
        "assets": [asset_json(a) for a in picture.assets],
        "record_from": picture.record_from.isoformat() if picture.record_from else None})
