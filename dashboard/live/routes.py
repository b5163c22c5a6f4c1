"""The live streams: ``GET /live/alerts`` and ``GET /live/assets`` (server-sent events).

``/live/alerts`` takes the same filters as ``/api/v1/alerts``; it sends
``alert`` for an alert recorded after the cursor (or newly released to the
viewer: released from Unrouted, releasability widened) and ``update`` for a
change to one (acknowledged, in progress, resolved, cancelled), each with
the alert's plain data (``dashboard.live.payloads.alert_data``) and its
events-stream id, and ``withdraw`` (``{"id": ...}``) for an alert no longer
released to the viewer. ``/live/assets`` sends ``asset`` with an asset's point.
Both resume after ``Last-Event-ID`` (or ``after``; anything but a stream
id answers 422), and send only what the viewer may see. With a ``status``
filter, ``update`` events are sent whatever the new status, so a viewer of
open alerts learns that one closed. Both streams re-check their caller every
few seconds (``dashboard.auth.recheck``) and end with ``revoked`` once the
caller signed out, lost its token or account, or changed role, nation or
clearance. Each stream takes a place of ``dashboard.live.limits.StreamLimits``
(``app.state.stream_limits``): one past a user's limit pushes out that user's
oldest (``event: superseded``); one past the process's total answers 503.
"""
from __future__ import annotations

import json
from dataclasses import replace

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from alerts.core.events import ALERT_CREATED, ALERT_ROUTED, AlertEvent, AssetEvent
from alerts.core.query import AlertQuery
from alerts.core.viewer import Viewer
from alerts.actions.visibility import restricted, shown_asset
from dashboard.params import alert_filters
from dashboard.auth.context import caller, services_of
from dashboard.auth.recheck import Recheck
from dashboard.live.limits import Lease, TooManyStreams
from dashboard.live.payloads import alert_data, asset_data
from dashboard.live.sse import sse_events, sse_frame, valid_cursor
from dashboard.services import Services

router = APIRouter()
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _lease(request: Request, viewer: Viewer, kind: str) -> Lease:
    """The stream's place (``dashboard.live.limits``); 503 with the reason when the process is full."""
    try:
        return request.app.state.stream_limits.open(viewer.name, kind)
    except TooManyStreams as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "30"}) from None


def _stream(body, lease: Lease) -> StreamingResponse:
    """The SSE response; ``lease`` is given back when it ends (also if its body never started)."""
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS, background=BackgroundTask(lease.close))


def _cursor(request: Request, after: str | None, default: str) -> str:
    """Where the stream resumes: ``Last-Event-ID``, else ``after``, else now; 422 for anything not a stream id."""
    cursor = request.headers.get("last-event-id") or after or default
    if not valid_cursor(cursor):
        raise HTTPException(422, "Last-Event-ID / after: not a stream id (e.g. 1700000000000-0)")
    return cursor


@router.get("/live/alerts", summary="Server-sent events: alerts as they arrive and change (see dashboard.live)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "events alert, update, withdraw, reload, revoked, superseded"},
                       422: {"description": "a filter or the cursor is not valid"},
                       503: {"description": "the server holds its limit of live streams"}})
async def live_alerts(request: Request, filters: AlertQuery = Depends(alert_filters), after: str | None = None,
                      viewer: Viewer = Depends(caller),
                      services: Services = Depends(services_of)) -> StreamingResponse:
    """Events ``alert`` (new) and ``update`` (changed), filtered like ``/api/v1/alerts``."""
    centre = services.centre
    query = restricted(centre, viewer, filters)
    changes = replace(query, status="all")
    cursor = _cursor(request, after, centre.index.cursor)

    def frame(event: AlertEvent) -> str | None:
        if event.kind == ALERT_CREATED:
            kind = "alert" if query.matches(event.alert) else None
        elif event.kind == ALERT_ROUTED:
            now, before = changes.matches(event.alert), changes.matches(event.seen_before())
            kind = ("update" if before else "alert" if query.matches(event.alert) else None) if now else \
                "withdraw" if before else None
        else:
            kind = "update" if changes.matches(event.alert) else None
        if kind == "withdraw":
            return sse_frame(kind, json.dumps({"id": event.alert.id}), event.event_id)
        return sse_frame(kind, json.dumps(alert_data(event.alert)), event.event_id) if kind else None

    lease = _lease(request, viewer, "alerts")
    body = sse_events(services.live.alerts, centre.alerts.events_since, cursor, frame, request.is_disconnected,
                      Recheck(services, request.scope, viewer), lease=lease)
    return _stream(body, lease)


@router.get("/live/assets", summary="Server-sent events: asset positions and status as they change",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "events asset, reload, revoked, superseded"},
                       422: {"description": "the cursor is not valid"},
                       503: {"description": "the server holds its limit of live streams"}})
async def live_assets(request: Request, after: str | None = None, viewer: Viewer = Depends(caller),
                      services: Services = Depends(services_of)) -> StreamingResponse:
    """Events ``asset``: the asset's map point, for assets released to the caller."""
    centre = services.centre
    cursor = _cursor(request, after, centre.asset_index.cursor)

    def frame(event: AssetEvent) -> str | None:
        if not event.asset.visible_to(viewer.nation):
            return None
        return sse_frame("asset", json.dumps(asset_data(shown_asset(centre, viewer, event.asset))), event.event_id)

    lease = _lease(request, viewer, "assets")
    body = sse_events(services.live.assets, centre.assets.events_since, cursor, frame, request.is_disconnected,
                      Recheck(services, request.scope, viewer), lease=lease)
    return _stream(body, lease)
