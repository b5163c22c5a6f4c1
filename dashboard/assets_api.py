"""Response assets over HTTP: list them, suggest the nearest suitable ones for an incident, task and release.

Releasability as for alerts: an asset or alert not released to the caller
answers 404, exactly as if it did not exist. Assign and release need
``task_assets`` (403 otherwise), answer 409 when the asset is not ready / not
assigned to that incident, and are appended to the audit trail
(``asset.assign``, ``asset.release``).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from alerts.assets import Asset, AssetStatus, AssetType, suggest
from alerts.model import StoredAlert
from alerts.query import AlertQuery
from alerts.roles import Permission
from dashboard import services as services_module
from dashboard.asset_feed import AssetFeed, NotAssigned, NotReady, asset_event_stream, for_services
from dashboard.auth import Viewer, current_viewer, require
from layers.assets import asset_point

router = APIRouter(prefix="/api/v1")
live_router = APIRouter()


class AssetBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_id: str = Field(min_length=1, max_length=100)


def asset_json(asset: Asset) -> dict:
    return asset.model_dump(mode="json")


def feed() -> AssetFeed:
    return for_services(services_module.current())


def visible_alert(alert_id: str, viewer: Viewer) -> StoredAlert:
    services = services_module.current()
    stored = services.index.get(alert_id, viewer.restrict(AlertQuery(), services.settings))
    if stored is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    return stored


def suggestions_for(stored: StoredAlert, viewer: Viewer, limit: int = 10) -> list[dict]:
    found = suggest(feed().table(), stored.alert.type, stored.lon, stored.lat, viewer.nation, limit)
    return [{"asset": asset_json(s["asset"]), "distance_km": round(s["distance_km"], 3),
             "eta_minutes": round(s["eta_minutes"], 1)} for s in found]


def assigned_to(alert_id: str, viewer: Viewer) -> list[Asset]:
    return sorted((a for a in feed().visible(viewer.nation) if a.assigned_to == alert_id), key=lambda a: a.id)


def task(action: str, alert_id: str, asset_id: str, viewer: Viewer, ip: str = "") -> Asset:
    """Assign or release (``action``), with every check and the audit entry; raises HTTPException."""
    require(viewer, Permission.TASK_ASSETS)
    visible_alert(alert_id, viewer)
    assets = feed()
    if assets.get(asset_id, viewer.nation) is None and (
            (a := assets.store.get(asset_id)) is None or not a.visible_to(viewer.nation)):
        raise HTTPException(404, f"no asset {asset_id!r}")
    try:
        after = assets.assign(asset_id, alert_id) if action == "assign" else assets.release(asset_id, alert_id)
    except (NotReady, NotAssigned) as exc:
        raise HTTPException(409, str(exc)) from None
    if after is None:
        raise HTTPException(404, f"no asset {asset_id!r}")
    services_module.current().audit.append(viewer.name, f"asset.{action}", asset_id,
                                           {"alert_id": alert_id, "status": after.status.value}, ip)
    return after


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/assets", summary="Assets released to the caller (filters: nation, type, status)")
def list_assets(
    nation: list[str] = Query(default=[]),
    type: list[AssetType] = Query(default=[]),  # noqa: A002
    status: list[AssetStatus] = Query(default=[]),
    viewer: Viewer = Depends(current_viewer),
) -> dict:
    nations = {n.strip().upper() for v in nation for n in v.split(",") if n.strip()}
    items = [a for a in feed().visible(viewer.nation)
             if (not nations or a.nation in nations) and (not type or a.type in type)
             and (not status or a.status in status)]
    items.sort(key=lambda a: (a.nation, a.id))
    return {"total": len(items), "items": [asset_json(a) for a in items]}


@router.get("/alerts/{alert_id:path}/suggestions",
            summary="The nearest ready, suitable assets released to the caller, with distance and ETA")
def get_suggestions(alert_id: str, limit: int = Query(10, ge=1, le=100),
                    viewer: Viewer = Depends(current_viewer)) -> dict:
    stored = visible_alert(alert_id, viewer)
    return {"alert_id": stored.id, "type": stored.alert.type.value, "items": suggestions_for(stored, viewer, limit)}


@router.get("/alerts/{alert_id:path}/assets", summary="The assets assigned to an alert")
def get_alert_assets(alert_id: str, viewer: Viewer = Depends(current_viewer)) -> dict:
    stored = visible_alert(alert_id, viewer)
    return {"alert_id": stored.id, "assigned_assets": [asset_json(a) for a in assigned_to(stored.id, viewer)]}


@router.post("/alerts/{alert_id:path}/assign", summary="Task a ready asset to an alert (task_assets)")
def post_assign(alert_id: str, body: AssetBody, request: Request, viewer: Viewer = Depends(current_viewer)) -> dict:
    return asset_json(task("assign", alert_id, body.asset_id, viewer, _ip(request)))


@router.post("/alerts/{alert_id:path}/release", summary="Release an asset from an alert (task_assets)")
def post_release(alert_id: str, body: AssetBody, request: Request, viewer: Viewer = Depends(current_viewer)) -> dict:
    return asset_json(task("release", alert_id, body.asset_id, viewer, _ip(request)))


@live_router.get("/live/assets", summary="Server-sent events: asset positions and status as they change")
async def live_assets(request: Request, after: str | None = None, viewer: Viewer = Depends(current_viewer)):
    assets = feed()
    cursor = request.headers.get("last-event-id") or after or assets.cursor
    return StreamingResponse(
        asset_event_stream(assets, viewer.nation, cursor, asset_point, request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def mount(server) -> None:
    """Include both routers (called from ``dashboard.api.mount``, before the alert routes)."""
    server.include_router(router)
    server.include_router(live_router)
