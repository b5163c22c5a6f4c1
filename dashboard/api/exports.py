"""Exports over HTTP: SITREP, GeoJSON of alerts and of assets, Cursor-on-Target.

Each needs the export permission (403 otherwise), is audited and carries the
marking of its content (see docs/sitrep.md); the work is ``alerts.actions.exports``.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from alerts.actions import exports
from alerts.core.query import AlertQuery
from alerts.core.viewer import Viewer
from dashboard.api.models import errors, html_export, media
from dashboard.params import alert_filters, client_address
from dashboard.auth.context import caller, services_of
from dashboard.services import Services

router = APIRouter()
GEOJSON = "application/geo+json"


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/export/alerts.geojson", summary="Visible alerts as a GeoJSON FeatureCollection (filters as /alerts)",
            responses={**media(GEOJSON, "an RFC 7946 FeatureCollection"), **errors(403, 422)})
def export_alerts_geojson(request: Request, filters: AlertQuery = Depends(alert_filters),
                          viewer: Viewer = Depends(caller),
                          services: Services = Depends(services_of)) -> JSONResponse:
    """RFC 7946 FeatureCollection; ``crisisdash publish`` reads it back."""
    body = exports.alerts_geojson(services.centre, viewer, filters,
                                  query_text=str(request.query_params), ip=client_address(request))
    return JSONResponse(body, media_type=GEOJSON, headers=_attachment("alerts.geojson"))


@router.get("/export/assets.geojson", summary="Response assets visible to the caller as a GeoJSON FeatureCollection",
            responses={**media(GEOJSON, "an RFC 7946 FeatureCollection"), **errors(403)})
def export_assets_geojson(request: Request, viewer: Viewer = Depends(caller),
                          services: Services = Depends(services_of)) -> JSONResponse:
    """The format ``crisisdash assets import`` reads back."""
    body = exports.assets_geojson(services.centre, viewer, ip=client_address(request))
    return JSONResponse(body, media_type=GEOJSON, headers=_attachment("assets.geojson"))


@router.get("/cot", summary="Visible incidents (filters as /alerts) and response assets as Cursor-on-Target events",
            response_class=Response, responses={**media("application/xml", "CoT 2.0 events under <events>"),
                                                **errors(403, 422)})
def cot_events(request: Request, filters: AlertQuery = Depends(alert_filters), viewer: Viewer = Depends(caller),
               services: Services = Depends(services_of)) -> Response:
    """CoT 2.0 events under one ``<events>`` root, each marked with MIL-STD-6090 ``access``, ``caveat`` and
    ``releasableTo`` (alpha-3); the document's marking in a comment before the root. Export permission; audited."""
    body = exports.cot_export(services.centre, viewer, filters, query_text=str(request.query_params),
                              ip=client_address(request))
    return Response(body, media_type="application/xml")


@router.get("/sitrep", summary="A SITREP: format=md|html|csv|geojson; window since/until (default: last 24 h)",
            response_class=Response, responses={
                200: {"content": {"text/markdown": {}, "text/html": {}, "text/csv": {}, GEOJSON: {}},
                      "description": "the SITREP in the format asked for"}, **errors(403, 422)})
def get_sitrep(request: Request, filters: AlertQuery = Depends(alert_filters),
               format: str = Query("md", description="md, html, csv, geojson"), viewer: Viewer = Depends(caller),  # noqa: A002
               services: Services = Depends(services_of)) -> Response:
    """The window is ``since``/``until`` or ``window_hours`` (default the last 24 hours)."""
    query = filters
    body, media, filename = exports.sitrep_export(services.centre, viewer, format, query, since=query.since,
                                                  until=query.until, ip=client_address(request))
    if format == "geojson":
        return JSONResponse(body, media_type=media, headers=_attachment(filename))
    if format == "html":
        return html_export(body)
    return PlainTextResponse(body, media_type=media, headers=_attachment(filename))
