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

from alerts.actions.markings import situation_marking
from alerts.actions.situation import situation_for
from alerts.core.query import AlertQuery
from alerts.core.roles import Permission
from dashboard.auth.context import callback_context
from dashboard.components.alerts import exercise_view_default, marking_attributes
from dashboard.components.graph import graph
from dashboard.components.ids import SITUATION_LIVE
from layers.situation import choropleth_figure, trend_figure

WINDOWS = [("6 h", 6), ("24 h", 24), ("7 days", 168), ("30 days", 720)]


def _minutes(seconds) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f} min"


def _tile(label: str, value, tile_id: str, tone: str = "") -> html.Div:
    return html.Div([html.Div(str(value), className="tile-value", id=tile_id), html.Div(label, className="tile-label")],
                    className=f"tile {tone}")


def layout(**_query) -> html.Div:
    """The page: window and exercise switches, tiles, trend, choropleths, open incidents, exports."""
    return html.Div(className="page-body situation", children=[
        html.Div(className="situation-controls", children=[
            html.Label("Window"),
            dcc.RadioItems(id="sit-window", options=[{"label": l, "value": h} for l, h in WINDOWS], value=24,
                           inline=True),
            html.Label("Show"),
            dcc.RadioItems(id="sit-exercise", value=exercise_view_default(callback_context().viewer), inline=True,
                           options=[{"label": "real and exercise", "value": "all"},
                                    {"label": "real only", "value": "real"},
                                    {"label": "exercise only", "value": "exercise"}]),
            html.Div(id="sit-export", className="exports"),
        ]),
        html.Div(id="sit-tiles", className="tiles"),
        html.H3("Alerts per hour by type"),
        graph("sit-trend"),
        html.Div(className="choropleths", children=[
            html.Div([html.H3("Open incidents by country"), graph("sit-countries")]),
            html.Div([html.H3("Open incidents by region"), graph("sit-regions")]),
        ]),
        html.H3("Open critical and high incidents"),
        html.Div(id="sit-table"),
        dcc.Store(id=SITUATION_LIVE),
    ])


dash.register_page(__name__, path="/situation", title="Situation · Crisis dashboard", name="Situation",
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
        _tile("open critical", severity["critical"], "tile-critical", "critical"),
        _tile("open high", severity["high"], "tile-high", "high"),
        _tile("open medium", severity["medium"], "tile-medium"),
        _tile("open low", severity["low"], "tile-low"),
        _tile("escalated", figures["escalated_alerts"], "tile-escalated", "critical" if figures["escalated_alerts"] else ""),
        _tile("to acknowledge (median / p90)", f"{_minutes(ack['median_s'])} / {_minutes(ack['p90_s'])}", "tile-ack"),
        _tile("to resolve (median / p90)", f"{_minutes(resolve['median_s'])} / {_minutes(resolve['p90_s'])}", "tile-resolve"),
        _tile("assets ready / committed", f"{assets['ready']} / {assets['committed']}", "tile-assets"),
        html.Div(hidden=True, id="sit-marking", **marking_attributes(situation_marking(centre, rows, since, until))),
    ]
    header = html.Tr([html.Th(h) for h in ("Severity", "Incident", "Where", "Status", "Owner", "Reported")])
    rows = [html.Tr([
        html.Td(i["severity"].upper(), className=f"sev sev-{i['severity']}"),
        html.Td([html.Span("EXERCISE", className="exercise-tag") if i["exercise"] else None, " ", i["title"]]),
        html.Td(", ".join(p for p in (i["region"], i["country"]) if p)), html.Td(i["status"]),
        html.Td(i["owner"] or "—"), html.Td(i["reported_at"][:16].replace("T", " ")),
    ]) for i in figures["open_critical_high"]]
    table = html.Table([html.Thead(header), html.Tbody(rows)], className="audit-table", id="sit-open-table")
    exports = None
    if viewer.can(Permission.EXPORT):
        query = f"window_hours={window_hours or 24}&exercise={exercise or 'all'}"
        exports = ["SITREP: "] + [html.A(label, href=f"/api/v1/sitrep?format={fmt}&{query}", target="_blank",
                                         className="export-link", id=f"export-{fmt}")
                                  for fmt, label in (("html", "print view"), ("md", "Markdown"), ("csv", "CSV"),
                                                     ("geojson", "GeoJSON"))]
    assets_url = dash.get_asset_url("")
    return (tiles, trend_figure(figures["trend"]),
            choropleth_figure(figures["open_by_country"], assets_url, "country"),
            choropleth_figure(figures["open_by_region_code"], assets_url, "region"), table, exports)
