"""Response models of the HTTP API, so ``/openapi.json`` documents every answer's shape.

Times are ISO 8601 text with a UTC offset; positions WGS84 degrees;
distances kilometres; durations seconds unless a name says otherwise.
"""
from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.formats.sitrep import html_csp


class Position(BaseModel):
    """A point, WGS84 degrees."""

    lat: float
    lon: float


class AlertOut(BaseModel):
    """One alert: the producer's fields (schema v1, extra fields kept) plus what ingest added."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    severity: str
    title: str
    description: str = ""
    reported_at: str
    source: str
    releasable_to: list[str] | None = None
    exercise: bool = False
    placement: dict[str, Any] = Field(description="country, country_name, countries, regions, offshore_km")
    received_at: str
    status: str = Field(description="new, acknowledged, in_progress, resolved, cancelled")
    identifier: str = Field(description="the producer's id (several alerts may share it: see ?identifier=)")
    identity: str = Field(description="the producer identity the alert was recognised by")
    position: Position | None = Field(description="where the alert is drawn: its location, else a point inside "
                                                  "its area; null for an unlocated alert")


class AlertPage(BaseModel):
    """A page of alerts, newest report first."""

    total: int
    limit: int
    offset: int
    items: list[AlertOut]
    held_since: str | None = Field(None, description="set when alerts closed before this time (ISO 8601) may "
                                   "be missing: they left the server's memory (README, Memory: the horizon); "
                                   "by id they are still found")


class Health(BaseModel):
    """Whether the app, its Redis and ingest work: only ``status`` for anonymous callers, the ``reasons``
    for signed-in ones, the figures for administrators and auditors."""

    status: str = Field(description="ok or degraded")
    reasons: list[str] | None = Field(None, description="why it is degraded (empty when ok); signed-in callers")
    redis: str | None = None
    workers: dict[str, dict[str, Any]] | None = Field(None, description="name -> last heartbeat")
    inboxes: dict[str, dict[str, Any]] | None = Field(None, description="pending, oldest_pending_s, lag")
    leases: dict[str, dict[str, Any] | None] | None = Field(
        None, description="job lease (escalation, exercises) -> fencing number and holder (host/pid/token), "
                          "null while free")
    alerts_loaded: int | None = Field(None, description="alerts in the read model that the caller may see")
    cursor: str | None = None
    live_clients: int | None = None
    threads: dict[str, dict[str, Any]] | None = Field(
        None, description="supervised background thread -> state (running, restarting, stopped), since (epoch s), "
                          "restarts, error, retry_in (s), critical")
    live: dict[str, Any] | None = Field(None, description="state (live or disconnected), since, since_label, reason")


class Me(BaseModel):
    """The caller."""

    name: str
    role: str
    nation: str | None
    clearance: str | None = Field(description="the classification level the caller is cleared for")
    permissions: list[str]


class AuditEntryOut(BaseModel):
    """One audit entry."""

    entry_id: str
    at: str
    actor: str
    action: str
    object: str
    detail: dict[str, Any]
    ip: str


class AuditPage(BaseModel):
    """The audit entries the caller may see, newest first (``alerts.actions.audit``)."""

    items: list[AuditEntryOut]
    next_before: str | None = Field(description="pass as ``before`` for the next (older) page; null when no "
                                                "older entry is left")


class MarkOut(BaseModel):
    """Who did something and when."""

    by: str
    at: str


class ResolutionOut(MarkOut):
    """A resolution, with its note."""

    note: str = ""


class StepOut(BaseModel):
    """One checklist step (``n`` from 1), due and, once done, by whom."""

    n: int
    title: str
    role: str
    due_at: str
    done_by: str | None
    done_at: str | None
    note: str | None


class ChecklistOut(BaseModel):
    """An alert's response: status, acknowledgment, resolution, escalation, steps."""

    alert_id: str
    status: str
    acknowledged: MarkOut | None
    resolved: ResolutionOut | None
    escalation_level: int = Field(description="0 none, 1 duty desk, 2 leadership")
    escalation: dict[str, Any] | None
    steps: list[StepOut]


class AssetOut(BaseModel):
    """One response asset (asset schema v1)."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    nation: str
    type: str
    capabilities: list[str]
    status: str
    home_base: Position
    position: Position
    speed_kmh: float
    releasable_to: list[str] | None
    updated_at: str
    assigned_to: str | None


class AssetPage(BaseModel):
    """Assets released to the caller."""

    total: int
    items: list[AssetOut]


class Suggestion(BaseModel):
    """A suitable ready asset for an incident, with its geodesic distance and ETA."""

    asset: AssetOut
    distance_km: float
    eta_minutes: float


class Suggestions(BaseModel):
    """The nearest suitable ready assets for an alert."""

    alert_id: str
    type: str
    items: list[Suggestion]


class AssignedAssets(BaseModel):
    """The assets tasked to an alert."""

    alert_id: str
    assigned_assets: list[AssetOut]


class Summary(BaseModel):
    """Counts and situation figures (see the README's API table and ``alerts.core.situation``)."""

    model_config = ConfigDict(extra="allow")

    total_alerts: int
    open_alerts: int
    exercise_alerts: int
    by_severity: dict[str, int]
    open_by_severity: dict[str, int]
    by_type: dict[str, int]
    by_country: dict[str, int]
    escalated_alerts: int
    time_to_acknowledge: dict[str, float | int | None]
    time_to_resolve: dict[str, float | int | None]
    trend: dict[str, Any]
    open_by_region: dict[str, int]
    open_critical_high: list[dict[str, Any]]
    assets: dict[str, Any]


class ErrorOut(BaseModel):
    """A refusal: ``detail`` says why; a 409 adds who was first (``by``/``at`` or ``done_by``/``done_at``)."""

    model_config = ConfigDict(extra="allow")

    detail: str


_MEANING = {403: "the caller's role may not do this", 404: "no such alert or asset, or not released to the caller",
            409: "the current state does not allow it (already done: who was first)",
            413: "the request body is too large", 422: "a parameter or the body is not valid"}


def errors(*codes: int) -> dict:
    """OpenAPI ``responses`` for the refusals a route can give (``alerts.actions.errors``)."""
    return {code: {"model": ErrorOut, "description": _MEANING[code]} for code in codes}


def media(media_type: str, description: str) -> dict:
    """OpenAPI ``responses`` for a 200 that is not JSON."""
    return {200: {"content": {media_type: {}}, "description": description}}


def html_export(page: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """An HTML export (the SITREP's, the AAR's page) as served: with the strict CSP of exports
    (``alerts.formats.sitrep.html_csp``: nothing loads or runs, only the page's own styles), never the app's."""
    return HTMLResponse(page, headers={**(headers or {}), "Content-Security-Policy": html_csp(page)})
