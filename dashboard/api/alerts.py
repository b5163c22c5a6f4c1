"""Alerts over HTTP: health, the list, one alert, the summary, the caller, the audit trail."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from alerts.actions.situation import summary as situation_summary
from alerts.actions.visibility import require, restricted, visible_alert
from alerts.core.model import StoredAlert
from alerts.core.query import Page
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.store.client import StoreError
from dashboard.api.models import AlertOut, AlertPage, AuditPage, Health, Me, Summary
from dashboard.api.params import alert_query
from dashboard.auth.context import caller, services_of
from dashboard.services import Services

router = APIRouter()


def alert_json(stored: StoredAlert) -> dict:
    """One alert as the API shows it: the producer's fields plus what ingest added."""
    body = stored.alert.model_dump(mode="json", exclude_none=True)
    body["placement"] = stored.placement.model_dump(mode="json")
    body["received_at"] = stored.received_at.isoformat()
    body["status"] = stored.status.value
    body["position"] = {"lat": stored.lat, "lon": stored.lon}
    return body


@router.get("/health", summary="App and Redis status (no authentication)", response_model=Health,
            responses={503: {"model": Health, "description": "Redis is unreachable"}})
def health(services: Services = Depends(services_of)) -> JSONResponse:
    """``status`` ok (200) or degraded (503, with the Redis error)."""
    try:
        services.client.ping()
        redis_state = "ok"
    except StoreError as exc:
        redis_state = f"down: {exc}"
    body = {
        "status": "ok" if redis_state == "ok" else "degraded",
        "redis": redis_state,
        "alerts_loaded": len(services.centre.index),
        "cursor": services.centre.index.cursor,
        "live_clients": services.live.subscriber_count,
    }
    return JSONResponse(body, status_code=200 if redis_state == "ok" else 503)


@router.get("/alerts", summary="Alerts visible to the caller, newest report first", response_model=AlertPage)
def list_alerts(request: Request, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
                viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """Filters as documented in ``alerts.core.query``; paging ``limit`` (at most 1000) and ``offset``."""
    centre = services.centre
    result = centre.index.search(restricted(centre, viewer, alert_query(request)), Page(limit=limit, offset=offset))
    return {"total": result.total, "limit": limit, "offset": offset, "items": [alert_json(a) for a in result.alerts]}


@router.get("/alerts/{alert_id:path}", summary="One alert by id (URL-encode the id)", response_model=AlertOut)
def get_alert(alert_id: str, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """404 if it does not exist or is not released to the caller."""
    return alert_json(visible_alert(services.centre, viewer, alert_id))


@router.get("/summary", summary="Counts and the situation figures over the alerts visible to the caller "
            "(filters as /alerts; since/until also set the window for response times and trend)",
            response_model=Summary)
def summary(request: Request, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """See the README's API table for every figure."""
    return situation_summary(services.centre, viewer, alert_query(request))


@router.get("/me", summary="Who the caller is", response_model=Me)
def me(viewer: Viewer = Depends(caller)) -> dict:
    """Name, role, nation and the permissions of the role."""
    return {"name": viewer.name, "role": viewer.role, "nation": viewer.nation,
            "permissions": sorted(p.value for p in Permission if viewer.can(p))}


@router.get("/audit", summary="The audit trail, newest first (admins only)", response_model=AuditPage)
def audit(limit: int = Query(200, ge=1, le=5000), viewer: Viewer = Depends(caller),
          services: Services = Depends(services_of)) -> dict:
    """At most ``limit`` entries, newest first."""
    require(viewer, Permission.READ_AUDIT)
    return {"items": [entry.__dict__ for entry in services.centre.audit.read(count=limit)]}
