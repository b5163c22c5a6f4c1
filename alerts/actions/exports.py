"""Exports as use cases: SITREP (Markdown, HTML, CSV, GeoJSON), GeoJSON of alerts or assets, CoT.

Every export needs the ``export`` permission (``Forbidden``), contains only
what the viewer may see, is audited (who, what, how much, the query), and
carries the marking of its content (``alerts.actions.markings``): the most
restrictive over the alerts it contains, in the form its format expects
(``alerts.formats.sitrep``, ``alerts.formats.geojson``,
``alerts.formats.cot.encode``); content without alerts, the lowest level.
"""
from __future__ import annotations

from datetime import datetime

from alerts.actions.centre import Centre
from alerts.actions.errors import Invalid
from alerts.actions.markings import situation_marking
from alerts.actions.situation import in_window, situation_for, window
from alerts.actions.visibility import require, visible_alerts, visible_assets
from alerts.core.events import CotExported, GeoJsonExported, SitrepExported
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.formats import sitrep
from alerts.formats.cot.encode import events_document
from alerts.formats.geojson import feature_collection
from alerts.i18n import N_

#: format -> (media type, download file name)
SITREP_FORMATS = {"md": ("text/markdown", "sitrep.md"), "html": ("text/html", "sitrep.html"),
                  "csv": ("text/csv", "incidents.csv"), "geojson": ("application/geo+json", "sitrep.geojson")}


def sitrep_export(centre: Centre, viewer: Viewer, format_: str, query: AlertQuery, *,
                  since: datetime | None = None, until: datetime | None = None, ip: str = "",
                  actor: str | None = None) -> tuple[str | dict, str, str]:
    """A SITREP of the window: ``(body, media type, file name)``; the body is a dict for GeoJSON.

    ``actor`` names who is audited (default the viewer; the CLI passes ``cli:<user>``).
    """
    require(viewer, Permission.EXPORT)
    if format_ not in SITREP_FORMATS:
        raise Invalid(N_("format must be one of %(formats)s"), values={"formats": ", ".join(SITREP_FORMATS)})
    since, until = window(centre, since, until)
    figures, rows = situation_for(centre, viewer, query, since, until)
    ids = in_window(rows, since, until)["id"].tolist()
    now, nation, scheme = centre.clock(), viewer.nation or "ALL", centre.scheme
    if format_ in ("md", "html"):
        marking = situation_marking(centre, rows, since, until)
        listed = centre.index.get_many(item["id"] for item in figures["open_critical_high"])
        markings = {stored.id: stored.routing.marking(scheme) for stored in listed if stored is not None}
        body: str | dict = (sitrep.markdown(figures, marking, now, nation, markings) if format_ == "md"
                            else sitrep.html_page(figures, marking, now, nation, markings, scheme))
    else:
        alerts = [stored for stored in centre.index.get_many(ids) if stored is not None]
        body = (sitrep.incidents_csv(alerts, scheme) if format_ == "csv"
                else sitrep.incidents_geojson(alerts, visible_assets(centre, viewer), scheme))
    centre.audit.record(actor or viewer.name, SitrepExported(format_, window=figures["window"], incidents=len(ids)),
                        ip)
    media, filename = SITREP_FORMATS[format_]
    return body, media, filename


def alerts_geojson(centre: Centre, viewer: Viewer, query: AlertQuery, *, query_text: str = "", ip: str = "") -> dict:
    """The visible alerts matching ``query`` as a GeoJSON FeatureCollection (RFC 7946)."""
    require(viewer, Permission.EXPORT)
    alerts = visible_alerts(centre, viewer, query)
    centre.record(viewer, GeoJsonExported("alerts", count=len(alerts), query=query_text), ip)
    return feature_collection(alerts, scheme=centre.scheme)


def assets_geojson(centre: Centre, viewer: Viewer, *, ip: str = "") -> dict:
    """The assets released to ``viewer`` as a FeatureCollection (what ``crisisdash assets import`` reads)."""
    require(viewer, Permission.EXPORT)
    assets = visible_assets(centre, viewer)
    centre.record(viewer, GeoJsonExported("assets", count=len(assets)), ip)
    return feature_collection([], assets, centre.scheme)


def cot_export(centre: Centre, viewer: Viewer, query: AlertQuery, *, query_text: str = "", ip: str = "") -> bytes:
    """The visible incidents matching ``query`` and the visible assets as CoT events under ``<events>``
    (``count`` audited: the events, located incidents and assets)."""
    require(viewer, Permission.EXPORT)
    alerts = [stored for stored in visible_alerts(centre, viewer, query) if stored.located]
    assets = visible_assets(centre, viewer)
    body = events_document(alerts, centre.clock(), assets, centre.scheme)
    centre.record(viewer, CotExported("cot", count=len(alerts) + len(assets), query=query_text), ip)
    return body
