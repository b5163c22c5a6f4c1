"""Leadership's situation page: tiles, trend, choropleths, open critical/high incidents, SITREP export.

Its figures are aggregates: one hidden element (``#sit-marking``, with the tiles) carries the marking of the
alerts they are drawn from (``alerts.actions.markings.situation_marking``), which the banner shows.

Live, not polled: the page's live stream (``/live/alerts``, ``assets/page_live.js``) sets ``SITUATION_LIVE``
on every change to an alert the viewer may see (at most once a second), and the figures are read again.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
from dash import Input, Output, callback, dcc, html

from alerts import i18n
from alerts.actions.markings import situation_marking
from alerts.actions.situation import situation_for
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission
from alerts.i18n import N_, terms
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.alerts import exercise_view_default, marking_attributes
from dashboard.components.graph import graph
from dashboard.components.ids import SITUATION_LIVE
from dashboard.components.language import UNTRANSLATED, page_title
from layers.situation import choropleth_figure, trend_figure

WINDOWS = [(N_("6 h"), 6), (N_("24 h"), 24), (N_("7 days"), 168), (N_("30 days"), 720)]
EXERCISE_CHOICES = [(N_("real and exercise"), "all"), (N_("real only"), "real"), (N_("exercise only"), "exercise")]
#: The SITREP's formats: the print view (in words), then formats named as they are (not translated).
EXPORT_FORMATS = (("html", N_("print view")), ("md", "Markdown"), ("csv", "CSV"), ("geojson", "GeoJSON"))


def _minutes(seconds) -> str:
    return "–" if seconds is None else _("%(minutes)s min") % {"minutes": i18n.number(seconds / 60, 1)}


def _tile(label: str, value, tile_id: str, tone: str = "") -> html.Div:
    return html.Div([html.Div(str(value), className="tile-value", id=tile_id), html.Div(label, className="tile-label")],
                    className=f"tile {tone}")


def _where(region: str, country: str) -> list:
    """``region, country``: the region's name as it is (content), the country (ISO 3166-1 alpha-2) by name."""
    parts = ([html.Span(region, **UNTRANSLATED)] if region else []) + (
        [html.Span(terms.country(country))] if country else [])
    return [part for index, span in enumerate(parts) for part in ([", "] if index else []) + [span]]


def layout(**_query) -> html.Div:
    """The page: window and exercise switches, tiles, trend, choropleths, open incidents, exports."""
    return html.Div(className="page-body situation", children=[
        html.Div(className="situation-controls", children=[
            html.Label(_("Window")),
            dcc.RadioItems(id="sit-window", options=[{"label": _(l), "value": h} for l, h in WINDOWS], value=24,
                           inline=True),
            html.Label(_("Show")),
            dcc.RadioItems(id="sit-exercise", value=exercise_view_default(callback_context().viewer), inline=True,
                           options=[{"label": _(label), "value": value} for label, value in EXERCISE_CHOICES]),
            html.Div(id="sit-export", className="exports"),
        ]),
        html.Div(id="sit-tiles", className="tiles"),
        html.H3(_("Alerts per hour by type")),
        graph("sit-trend"),
        html.Div(className="choropleths", children=[
            html.Div([html.H3(_("Open incidents by country")), graph("sit-countries")]),
            html.Div([html.H3(_("Open incidents by region")), graph("sit-regions")]),
        ]),
        html.H3(_("Open critical and high incidents")),
        html.Div(id="sit-table"),
        dcc.Store(id=SITUATION_LIVE),
    ])


dash.register_page(__name__, path="/situation", title=page_title(N_("Situation")), name=N_("Situation"),
                   layout=layout)


@callback(
    Output("sit-tiles", "children"), Output("sit-trend", "figure"), Output("sit-countries", "figure"),
    Output("sit-regions", "figure"), Output("sit-table", "children"), Output("sit-export", "children"),
    Input("sit-window", "value"), Input("sit-exercise", "value"), Input(SITUATION_LIVE, "data"),
)
def refresh(window_hours, exercise, _live):
    """Every figure of the page, for the chosen window and real/exercise switch; read again on each live
    event (``SITUATION_LIVE``, at most once a second)."""
    context = callback_context()
    viewer = context.viewer
    centre = context.services.centre
    until = datetime.now(UTC)
    since = until - timedelta(hours=window_hours or 24)
    figures, rows = situation_for(centre, viewer, AlertQuery(exercise=exercise or "all"), since, until)
    severity, assets = figures["open_by_severity"], figures["assets"]
    ack, resolve = figures["time_to_acknowledge"], figures["time_to_resolve"]
    tiles = [
        _tile(_("open critical"), severity["critical"], "tile-critical", "critical"),
        _tile(_("open high"), severity["high"], "tile-high", "high"),
        _tile(_("open medium"), severity["medium"], "tile-medium"),
        _tile(_("open low"), severity["low"], "tile-low"),
        _tile(_("escalated"), figures["escalated_alerts"], "tile-escalated", "critical" if figures["escalated_alerts"] else ""),
        _tile(_("to acknowledge (median / p90)"), f"{_minutes(ack['median_s'])} / {_minutes(ack['p90_s'])}", "tile-ack"),
        _tile(_("to resolve (median / p90)"), f"{_minutes(resolve['median_s'])} / {_minutes(resolve['p90_s'])}", "tile-resolve"),
        _tile(_("assets ready / committed"), f"{assets['ready']} / {assets['committed']}", "tile-assets"),
        html.Div(hidden=True, id="sit-marking", **marking_attributes(situation_marking(centre, rows, since, until))),
    ]
    header = html.Tr([html.Th(h) for h in (_("Severity"), _("Incident"), _("Where"), _("Status"), _("Owner"),
                                           _("Reported"))])
    rows = [html.Tr([
        html.Td(i18n.upper(terms.severity(i["severity"])), className=f"sev sev-{i['severity']}"),
        html.Td([html.Span("EXERCISE", className="exercise-tag", **UNTRANSLATED) if i["exercise"] else None, " ",
                 html.Span(i["title"], **UNTRANSLATED)]),
        html.Td(_where(i["region"], i["country"])), html.Td(terms.status(i["status"])),
        html.Td(i["owner"] or "—", **UNTRANSLATED), html.Td(i["reported_at"][:16].replace("T", " ")),
    ]) for i in figures["open_critical_high"]]
    table = html.Table([html.Thead(header), html.Tbody(rows)], className="audit-table", id="sit-open-table")
    exports = None
    if viewer.can(Permission.EXPORT):
        query = f"window_hours={window_hours or 24}&exercise={exercise or 'all'}"
        exports = [html.Span("SITREP", **UNTRANSLATED), ": "] + [
            html.A(_(label) if fmt == "html" else label, href=f"/api/v1/sitrep?format={fmt}&{query}",
                   target="_blank", className="export-link", id=f"export-{fmt}",
                   **({} if fmt == "html" else UNTRANSLATED))
            for fmt, label in EXPORT_FORMATS]
    assets_url = dash.get_asset_url("")
    return (tiles, trend_figure(figures["trend"]),
            choropleth_figure(figures["open_by_country"], assets_url, "country"),
            choropleth_figure(figures["open_by_region_code"], assets_url, "region"), table, exports)
