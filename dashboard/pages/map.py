"""The duty officer's live map: filters, the regional map, the latest alerts and details.

The figure is built on the server from the read model whenever filters change
(and by a slow watchdog); new alerts arrive afterwards by server push
(``assets/live.js`` over ``/live/alerts``) as partial updates to the live
traces and the list. The build returns the stream cursor it reflects, so the
browser resumes exactly after it: no gap, no duplicate.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
from dash import ClientsideFunction, Input, Output, callback, clientside_callback, dcc, html

from alerts.model import AlertType, Severity, StoredAlert
from alerts.query import AlertQuery
from dashboard import services as services_module
from dashboard.auth import viewer_for_callback
from dashboard.components import alert_list_item, details_panel, legend
from dashboard.query_params import encode_filters
from layers.basemap import map_figure
from layers.incidents import incident_traces, type_label

LATEST_SHOWN = 50
WINDOWS = [("1 h", 1), ("6 h", 6), ("24 h", 24), ("7 days", 168), ("30 days", 720), ("all", 0)]


def _filters() -> html.Div:
    services = services_module.current()
    countries = sorted(
        (c for c in services.regions.countries if c.core), key=lambda c: c.name
    ) + sorted((c for c in services.regions.countries if not c.core), key=lambda c: c.name)
    return html.Div(
        className="filters",
        children=[
            html.Label("Severity"),
            dcc.Checklist(
                id="filter-severity",
                options=[{"label": s.value, "value": s.value} for s in Severity],
                value=[s.value for s in Severity],
                inline=True,
            ),
            html.Label("Type"),
            dcc.Dropdown(
                id="filter-type",
                options=[{"label": type_label(t.value), "value": t.value} for t in AlertType],
                multi=True,
                placeholder="all types",
            ),
            html.Label("Country"),
            dcc.Dropdown(
                id="filter-country",
                options=[{"label": f"{c.name} ({c.iso2})", "value": c.iso2} for c in countries],
                multi=True,
                placeholder="all countries",
            ),
            html.Label("Reported within"),
            dcc.RadioItems(
                id="filter-window",
                options=[{"label": label, "value": hours} for label, hours in WINDOWS],
                value=0,
                inline=True,
            ),
            html.Label("Real / exercise"),
            dcc.RadioItems(
                id="filter-exercise",
                options=[{"label": "all", "value": "all"}, {"label": "real only", "value": "real"},
                         {"label": "exercise only", "value": "exercise"}],
                value="all",
                inline=True,
            ),
        ],
    )


def layout(**_query) -> html.Div:
    return html.Div(
        className="map-page",
        children=[
            html.Aside(className="sidebar", children=[_filters(), legend()]),
            html.Main(
                className="map-area",
                children=[
                    dcc.Graph(
                        id="incident-map",
                        className="incident-map",
                        config={"scrollZoom": True, "displaylogo": False},
                        style={"height": "100%"},
                    ),
                    html.Div(id="live-status", className="live-status", children="connecting…"),
                ],
            ),
            html.Aside(
                className="feed",
                children=[
                    html.H2(["Latest alerts ", html.Span(id="shown-count", className="count")]),
                    html.Ul(id="alert-list", className="alert-list"),
                    html.Div(id="alert-details", className="details"),
                ],
            ),
            dcc.Store(id="live-source"),
            dcc.Store(id="selected-alert"),
            dcc.Store(id="live-connection"),
            dcc.Interval(id="watchdog", interval=60_000),
        ],
    )


dash.register_page(__name__, path="/", title="Live map · Crisis dashboard", name="Live map", layout=layout)


def build_query(severities, types, countries, window_hours, exercise, now: datetime) -> AlertQuery:
    return AlertQuery(
        severities=frozenset(severities or ()) if severities is not None else frozenset(),
        types=frozenset(types or ()),
        countries=frozenset(countries or ()),
        since=now - timedelta(hours=window_hours) if window_hours else None,
        exercise=exercise or "all",
    )


@callback(
    Output("incident-map", "figure"),
    Output("alert-list", "children"),
    Output("shown-count", "children"),
    Output("live-source", "data"),
    Input("filter-severity", "value"),
    Input("filter-type", "value"),
    Input("filter-country", "value"),
    Input("filter-window", "value"),
    Input("filter-exercise", "value"),
    Input("watchdog", "n_intervals"),
)
def rebuild_map(severities, types, countries, window_hours, exercise, _tick):
    services = services_module.current()
    viewer = viewer_for_callback()
    if severities is not None and not severities:
        severities = ["none"]  # nothing ticked: show nothing
    query = viewer.restrict(
        build_query(severities, types, countries, window_hours, exercise, datetime.now(UTC)), services.settings
    )
    cursor = services.index.cursor  # taken before reading: live events after it follow
    rows = services.index.select(query)
    figure = map_figure(incident_traces(rows), dash.get_asset_url(""))
    latest = [alert_list_item(services.index.get(i)) for i in rows["id"].iloc[:LATEST_SHOWN]]
    source = {
        "query": encode_filters(severities, types, countries, window_hours, exercise),
        "after": cursor,
        "limit": LATEST_SHOWN,
        "shown": len(rows),
    }
    return figure, latest, str(len(rows)), source


@callback(
    Output("alert-details", "children"),
    Input("incident-map", "clickData"),
    Input("selected-alert", "data"),
    prevent_initial_call=True,
)
def show_details(click_data, selected):
    """Details of the incident clicked on the map, or in the list (``assets/live.js`` sets ``selected-alert``)."""
    services = services_module.current()
    viewer = viewer_for_callback()
    if dash.ctx.triggered_id == "selected-alert":
        alert_id = (selected or {}).get("id")
    elif click_data and click_data.get("points"):
        alert_id = click_data["points"][0].get("customdata")
    else:
        return dash.no_update
    if not alert_id:
        return dash.no_update
    stored: StoredAlert | None = services.index.get(alert_id, viewer.restrict(AlertQuery(), services.settings))
    return details_panel(stored)


clientside_callback(
    ClientsideFunction(namespace="crisis", function_name="connectLive"),
    Output("live-connection", "data"),
    Input("live-source", "data"),
)
