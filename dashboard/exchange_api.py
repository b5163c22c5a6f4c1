"""Standard formats out: GeoJSON export and Cursor-on-Target for TAK (``/api/v1``)."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from alerts.cot_out import events_document
from alerts.geojson import feature_collection
from alerts.roles import Permission
from dashboard import services as services_module
from dashboard.api import viewer_query
from dashboard.asset_feed import for_services
from dashboard.auth import Viewer, current_viewer, require

router = APIRouter(prefix="/api/v1")


def _visible(request: Request, viewer: Viewer):
    services = services_module.current()
    rows = services.index.select(viewer_query(request, viewer))
    return [services.index.get(alert_id) for alert_id in rows["id"]]


@router.get("/export/alerts.geojson", summary="Visible alerts as a GeoJSON FeatureCollection (filters as /alerts)")
def export_geojson(request: Request, viewer: Viewer = Depends(current_viewer)) -> JSONResponse:
    require(viewer, Permission.EXPORT)
    alerts = _visible(request, viewer)
    services_module.current().audit.append(
        viewer.name, "export.geojson", "alerts", {"count": len(alerts), "query": str(request.query_params)},
        request.client.host if request.client else "")
    return JSONResponse(feature_collection(alerts), media_type="application/geo+json",
                        headers={"Content-Disposition": 'attachment; filename="alerts.geojson"'})


@router.get("/export/assets.geojson", summary="Response assets visible to the caller as a GeoJSON FeatureCollection")
def export_assets_geojson(request: Request, viewer: Viewer = Depends(current_viewer)) -> JSONResponse:
    require(viewer, Permission.EXPORT)
    assets = for_services(services_module.current()).visible(viewer.nation)
    services_module.current().audit.append(viewer.name, "export.geojson", "assets", {"count": len(assets)},
                                           request.client.host if request.client else "")
    return JSONResponse(feature_collection([], assets), media_type="application/geo+json",
                        headers={"Content-Disposition": 'attachment; filename="assets.geojson"'})


@router.get("/cot", summary="Visible incidents (filters as /alerts) and response assets as Cursor-on-Target events")
def cot_events(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    assets = for_services(services_module.current()).visible(viewer.nation)
    body = events_document(_visible(request, viewer), datetime.now(UTC), assets)
    return Response(body, media_type="application/xml")
