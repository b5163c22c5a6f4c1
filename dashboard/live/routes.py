"""The live streams: ``GET /live/alerts`` and ``GET /live/assets`` (server-sent events).

``/live/alerts`` takes the same filters as ``/api/v1/alerts``; it sends
``alert`` for an alert recorded after the cursor and ``update`` for a change
to one (acknowledged, in progress, resolved, cancelled), each with the
alert's plain data (``dashboard.live.payloads.alert_data``) and its
events-stream id. ``/live/assets`` sends ``asset`` with an asset's point.
Both resume after ``Last-Event-ID`` (or ``after``), and send only what the
viewer may see.
"""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from alerts.core.events import ALERT_CREATED, AlertEvent, AssetEvent
from alerts.core.viewer import Viewer
from alerts.actions.visibility import restricted
from dashboard.api.params import alert_query
from dashboard.auth.context import caller, services_of
from dashboard.live.payloads import alert_data, asset_data
from dashboard.live.sse import sse_events, sse_frame
from dashboard.services import Services

router = APIRouter()
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@router.get("/live/alerts", summary="Server-sent events: alerts as they arrive and change (see dashboard.live)")
async def live_alerts(request: Request, after: str | None = None, viewer: Viewer = Depends(caller),
                      services: Services = Depends(services_of)) -> StreamingResponse:
    """Events ``alert`` (new) and ``update`` (changed), filtered like ``/api/v1/alerts``."""
    centre = services.centre
    query = restricted(centre, viewer, alert_query(request))
    cursor = request.headers.get("last-event-id") or after or centre.index.cursor

    def frame(event: AlertEvent) -> str | None:
        if not query.matches(event.alert):
            return None
        name = "alert" if event.kind == ALERT_CREATED else "update"
        return sse_frame(name, json.dumps(alert_data(event.alert)), event.event_id)

    body = sse_events(services.live.alerts, centre.alerts.events_since, cursor, frame, request.is_disconnected)
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)


@router.get("/live/assets", summary="Server-sent events: asset positions and status as they change")
async def live_assets(request: Request, after: str | None = None, viewer: Viewer = Depends(caller),
                      services: Services = Depends(services_of)) -> StreamingResponse:
    """Events ``asset``: the asset's map point, for assets released to the caller."""
    centre = services.centre
    cursor = request.headers.get("last-event-id") or after or centre.asset_index.cursor

    def frame(event: AssetEvent) -> str | None:
        if not event.asset.visible_to(viewer.nation):
            return None
        return sse_frame("asset", json.dumps(asset_data(event.asset)), event.event_id)

    body = sse_events(services.live.assets, centre.assets.events_since, cursor, frame, request.is_disconnected)
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)
