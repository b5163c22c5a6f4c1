"""SITREP export (``GET /api/v1/sitrep``) for leadership, in Markdown, HTML, CSV or GeoJSON."""
from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from alerts import sitrep
from alerts.roles import Permission
from dashboard import services as services_module
from dashboard.api import viewer_query
from dashboard.asset_feed import for_services
from dashboard.auth import Viewer, current_viewer, require
from dashboard.situation_view import situation_for

router = APIRouter(prefix="/api/v1")
FORMATS = ("md", "html", "csv", "geojson")


def render(viewer: Viewer, format_: str, figures: dict, alert_ids: list[str]) -> tuple[str | dict, str]:
    """The export body and its media type."""
    services = services_module.current()
    now = datetime.now(UTC)
    classification = services.settings.classification
    if format_ == "md":
        return sitrep.markdown(figures, classification, now, viewer.nation or "ALL"), "text/markdown"
    if format_ == "html":
        return sitrep.html_page(figures, classification, now, viewer.nation or "ALL"), "text/html"
    alerts = [services.index.get(i) for i in alert_ids]
    if format_ == "csv":
        return sitrep.incidents_csv(alerts), "text/csv"
    assets = for_services(services).visible(viewer.nation)
    return sitrep.incidents_geojson(alerts, assets), "application/geo+json"


@router.get("/sitrep", summary="A SITREP: format=md|html|csv|geojson; window since/until (default: last 24 h)")
def get_sitrep(request: Request, format: str = Query("md"), viewer: Viewer = Depends(current_viewer)) -> Response:  # noqa: A002
    require(viewer, Permission.EXPORT)
    if format not in FORMATS:
        raise HTTPException(422, f"format must be one of {', '.join(FORMATS)}")
    query = viewer_query(request, viewer)
    until = query.until or datetime.now(UTC)
    figures, rows = situation_for(viewer, query, query.since, until)
    window = rows[(rows["reported_at"] >= figures["window"]["since"]) & (rows["reported_at"] < until)]
    body, media = render(viewer, format, figures, window["id"].tolist())
    services_module.current().audit.append(viewer.name, "export.sitrep", format,
                                           {"window": figures["window"], "incidents": len(window)},
                                           request.client.host if request.client else "")
    filename = {"md": "sitrep.md", "html": "sitrep.html", "csv": "incidents.csv", "geojson": "sitrep.geojson"}[format]
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if format != "html" else {}
    if format == "geojson":
        return JSONResponse(body, media_type=media, headers=headers)
    if format == "html":
        return HTMLResponse(body)
    return PlainTextResponse(body, media_type=media, headers=headers)
