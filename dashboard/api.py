"""HTTP API under ``/api/v1`` (JSON; OpenAPI at ``/openapi.json``, browsable at ``/docs``) and the live stream route."""
from __future__ import annotations

from datetime import UTC, datetime

import redis
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from alerts.model import StoredAlert
from alerts.query import AlertQuery, Page
from alerts.summary import summarise
from dashboard import services as services_module
from dashboard import workflow_api
from dashboard import assets_api
from alerts.roles import Permission
from dashboard.auth import AuthMiddleware, Viewer, current_viewer, login_router, require
from dashboard.live import alert_event_stream
from dashboard.query_params import parse_query
from dashboard.components import live_payload

API_PREFIX = "/api/v1"


def _now() -> datetime:
    return datetime.now(UTC)


def alert_json(stored: StoredAlert) -> dict:
    """One alert as the API shows it: the producer's fields plus what ingest added."""
    body = stored.alert.model_dump(mode="json", exclude_none=True)
    body["placement"] = stored.placement.model_dump(mode="json")
    body["received_at"] = stored.received_at.isoformat()
    body["status"] = stored.status.value
    body["position"] = {"lat": stored.lat, "lon": stored.lon}
    return body


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def viewer_query(request: Request, viewer: Viewer) -> AlertQuery:
    """The caller's filters, restricted to what the caller may see."""
    return viewer.restrict(parse_query(_params(request), _now), services_module.current().settings)


router = APIRouter(prefix=API_PREFIX)


@router.get("/health", summary="App and Redis status (no authentication)")
def health() -> JSONResponse:
    services = services_module.current()
    try:
        services.client.ping()
        redis_state = "ok"
    except redis.RedisError as exc:
        redis_state = f"down: {exc}"
    body = {
        "status": "ok" if redis_state == "ok" else "degraded",
        "redis": redis_state,
        "alerts_loaded": len(services.index),
        "cursor": services.index.cursor,
        "live_clients": services.follower.subscriber_count,
    }
    return JSONResponse(body, status_code=200 if redis_state == "ok" else 503)


@router.get("/alerts", summary="Alerts visible to the caller, newest report first")
def list_alerts(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    viewer: Viewer = Depends(current_viewer),
) -> dict:
    services = services_module.current()
    result = services.index.search(viewer_query(request, viewer), Page(limit=limit, offset=offset))
    return {"total": result.total, "limit": limit, "offset": offset,
            "items": [alert_json(a) for a in result.alerts]}


@router.get("/alerts/{alert_id:path}", summary="One alert by id (URL-encode the id)")
def get_alert(alert_id: str, viewer: Viewer = Depends(current_viewer)) -> dict:
    services = services_module.current()
    stored = services.index.get(alert_id, viewer.restrict(AlertQuery(), services.settings))
    if stored is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    return alert_json(stored)


@router.get("/summary", summary="Counts and the situation figures over the alerts visible to the caller "
            "(filters as /alerts; since/until also set the window for response times and trend)")
def summary(request: Request, viewer: Viewer = Depends(current_viewer)) -> dict:
    from dashboard.situation_view import situation_for

    services = services_module.current()
    query = viewer_query(request, viewer)
    figures, _ = situation_for(viewer, query, query.since, query.until)
    return {**figures, **summarise(services.index.select(query))}


@router.get("/me", summary="Who the caller is")
def me(viewer: Viewer = Depends(current_viewer)) -> dict:
    return {"name": viewer.name, "role": viewer.role, "nation": viewer.nation,
            "permissions": sorted(p.value for p in Permission if viewer.can(p))}


@router.get("/audit", summary="The audit trail, newest first (admins only)")
def audit(limit: int = Query(200, ge=1, le=5000), viewer: Viewer = Depends(current_viewer)) -> dict:
    require(viewer, Permission.READ_AUDIT)
    entries = services_module.current().audit.read(count=limit)
    return {"items": [entry.__dict__ for entry in entries]}


live_router = APIRouter()


@live_router.get("/live/alerts", summary="Server-sent events: alerts as they arrive (see dashboard.live)")
async def live_alerts(request: Request, after: str | None = None, viewer: Viewer = Depends(current_viewer)):
    services = services_module.current()
    query = viewer_query(request, viewer)
    cursor = request.headers.get("last-event-id") or after or services.index.cursor
    return StreamingResponse(
        alert_event_stream(services.follower, query, cursor, live_payload, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def mount(server: FastAPI) -> None:
    from dashboard import exchange_api, sitrep_api  # they build on this module
    """Add the API, the live stream and sign-in, all behind ``AuthMiddleware``."""
    server.include_router(login_router)
    server.include_router(workflow_api.router)  # before ``router``: its /alerts/{id:path} would take these
    assets_api.mount(server)  # response assets (dashboard.assets_api); also before ``router``
    server.include_router(router)
    server.include_router(exchange_api.router)
    server.include_router(sitrep_api.router)
    server.include_router(live_router)
    server.add_middleware(AuthMiddleware)  # outermost: runs before Dash's own middleware
