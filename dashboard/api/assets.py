"""Response assets over HTTP: list them, suggest the nearest suitable ones for an incident, task and release.

Releasability as for alerts: an asset or alert not released to the caller
answers 404, exactly as if it did not exist. Assign and release need
``task_assets`` (403 otherwise) and answer 409 when the asset is not ready /
not assigned to that incident (``alerts.actions.tasking``).
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from alerts.actions import tasking
from alerts.actions.visibility import visible_alert, visible_assets
from alerts.core.assets import Asset, AssetStatus, AssetType
from alerts.core.viewer import Viewer
from dashboard.api.models import AssetOut, AssetPage, AssignedAssets, Suggestions, errors
from dashboard.params import client_address
from dashboard.auth.context import caller, services_of
from dashboard.services import Services

router = APIRouter()


class AssetBody(BaseModel):
    """Which asset to assign or release."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_id: str = Field(min_length=1, max_length=100)


def asset_json(asset: Asset) -> dict:
    """One asset as the API shows it."""
    return asset.model_dump(mode="json")


@router.get("/assets", summary="Assets released to the caller (filters: nation, type, status)",
            response_model=AssetPage)
def list_assets(
    nation: list[str] = Query(default=[]),
    type: list[AssetType] = Query(default=[]),  # noqa: A002
    status: list[AssetStatus] = Query(default=[]),
    viewer: Viewer = Depends(caller),
    services: Services = Depends(services_of),
) -> dict:
    """Nations may repeat or be comma-separated; sorted by nation, then id."""
    nations = {n.strip().upper() for v in nation for n in v.split(",") if n.strip()}
    items = [a for a in visible_assets(services.centre, viewer)
             if (not nations or a.nation in nations) and (not type or a.type in type)
             and (not status or a.status in status)]
    items.sort(key=lambda a: (a.nation, a.id))
    return {"total": len(items), "items": [asset_json(a) for a in items]}


@router.get("/alerts/{alert_id:path}/suggestions",
            summary="The nearest ready, suitable assets released to the caller, with distance and ETA",
            response_model=Suggestions, responses=errors(404))
def get_suggestions(alert_id: str, limit: int = Query(10, ge=1, le=100), viewer: Viewer = Depends(caller),
                    services: Services = Depends(services_of)) -> dict:
    """Geodesic distance (km) on WGS84 and ETA (minutes) from the asset's speed."""
    stored = visible_alert(services.centre, viewer, alert_id)
    found = tasking.suggestions(services.centre, viewer, stored, limit)
    return {"alert_id": stored.id, "type": stored.alert.type.value,
            "items": [{**s, "asset": asset_json(s["asset"])} for s in found]}


@router.get("/alerts/{alert_id:path}/assets", summary="The assets assigned to an alert", response_model=AssignedAssets,
            responses=errors(404))
def get_alert_assets(alert_id: str, viewer: Viewer = Depends(caller), services: Services = Depends(services_of)) -> dict:
    """Only the assigned assets released to the caller."""
    stored = visible_alert(services.centre, viewer, alert_id)
    return {"alert_id": stored.id,
            "assigned_assets": [asset_json(a) for a in tasking.assigned_to(services.centre, viewer, stored.id)]}


@router.post("/alerts/{alert_id:path}/assign", summary="Task a ready asset to an alert (task_assets)",
             response_model=AssetOut, responses=errors(403, 404, 409, 422))
def post_assign(alert_id: str, body: AssetBody, request: Request, viewer: Viewer = Depends(caller),
                services: Services = Depends(services_of)) -> dict:
    """The asset becomes ``committed``, ``assigned_to`` the alert; 409 if it is not ready."""
    return asset_json(tasking.assign(services.centre, viewer, alert_id, body.asset_id, ip=client_address(request)))


@router.post("/alerts/{alert_id:path}/release", summary="Release an asset from an alert (task_assets)",
             response_model=AssetOut, responses=errors(403, 404, 409, 422))
def post_release(alert_id: str, body: AssetBody, request: Request, viewer: Viewer = Depends(caller),
                 services: Services = Depends(services_of)) -> dict:
    """Back to ``ready``; 409 if it is not assigned to that alert."""
    return asset_json(tasking.release(services.centre, viewer, alert_id, body.asset_id, ip=client_address(request)))
