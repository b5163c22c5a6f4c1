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
from dash import ALL, ClientsideFunction, Input, Output, callback, clientside_callback, dcc, html
from fastapi import HTTPException

from alerts.assets import SUITABLE_CAPABILITIES, AssetType
from alerts.coverage import coverage
from alerts.roles import Permission

from alerts.model import AlertType, Severity, StoredAlert
from alerts.query import AlertQuery
from dashboard import services as services_module
from dashboard import assets_api
from dashboard.auth import viewer_for_callback
from dashboard.asset_components import asset_details, asset_legend, tasking_panel
from dashboard.components import alert_list_item, details_panel, legend
from dashboard.query_params import encode_filters
from layers.basemap import map_figure
from layers.assets import ASSET_PREFIX, asset_traces
from layers.coverage import coverage_traces
from layers.incidents import incident_traces, type_label

LATEST_SHOWN = 50
WINDOWS = [("1 h", 1), ("6 h", 6), ("24 h", 24), ("7 days", 168), ("30 days", 720), ("all", 0)]
COVERAGE_MINUTES = [15, 30, 60, 120]
COVERAGE_CAPABILITIES = sorted({t.value for t in AssetType} | set().union(*SUITABLE_CAPABILITIES.values()))


def _asset_controls() -> html.Div:
    """Layer toggles and the coverage question: which capability, within how many minutes."""
    return html.Div(
        className="filters asset-controls",
        children=[
            html.Label("Layers"),
            dcc.Checklist(id="layer-toggles", options=[{"label": "assets", "value": "assets"},
                                                       {"label": "coverage", "value": "coverage"}],
                          value=["assets"], inline=True),
            html.Label("Coverage: capability"),
            dcc.Dropdown(id="coverage-capability", value="medevac", clearable=False,
                         options=[{"label": c.replace("_", " "), "value": c} for c in COVERAGE_CAPABILITIES]),
            html.Label("Coverage: reachable within"),
            dcc.RadioItems(id="coverage-minutes", value=60, inline=True,
                           options=[{"label": f"{m} min", "value": m} for m in COVERAGE_MINUTES]),
            html.Div(id="coverage-gaps", className="coverage-gaps"),
        ],
    )


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
            html.Aside(className="sidebar", children=[_filters(), _asset_controls(), legend(), asset_legend()]),
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
                    html.Div(id="asset-suggestions", className="details"),
                ],
            ),
            dcc.Store(id="live-source"),
            dcc.Store(id="selected-alert"),
            dcc.Store(id="live-connection"),
            dcc.Store(id="asset-connection"),
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
    Output("coverage-gaps", "children"),
    Input("filter-severity", "value"),
    Input("filter-type", "value"),
    Input("filter-country", "value"),
    Input("filter-window", "value"),
    Input("filter-exercise", "value"),
    Input("watchdog", "n_intervals"),
    Input("layer-toggles", "value"),
    Input("coverage-capability", "value"),
    Input("coverage-minutes", "value"),
)
def rebuild_map(severities, types, countries, window_hours, exercise, _tick, layers=None, capability=None,
                minutes=None):
    services = services_module.current()
    viewer = viewer_for_callback()
    layers = layers if layers is not None else ["assets"]
    feed = assets_api.feed()
    asset_cursor = feed.cursor  # taken before reading, like the alert cursor
    assets = sorted(feed.visible(viewer.nation), key=lambda a: a.id)
    covered = coverage(assets, capability, float(minutes), feed.places, viewer.nation) \
        if "coverage" in layers and capability and minutes else None
    if severities is not None and not severities:
        severities = ["none"]  # nothing ticked: show nothing
    query = viewer.restrict(
        build_query(severities, types, countries, window_hours, exercise, datetime.now(UTC)), services.settings
    )
    cursor = services.index.cursor  # taken before reading: live events after it follow
    rows = services.index.select(query)
    traces = incident_traces(rows) + asset_traces(assets, "assets" in layers) + coverage_traces(covered)
    figure = map_figure(traces, dash.get_asset_url(""))
    latest = [alert_list_item(services.index.get(i)) for i in rows["id"].iloc[:LATEST_SHOWN]]
    source = {
        "query": encode_filters(severities, types, countries, window_hours, exercise),
        "after": cursor,
        "limit": LATEST_SHOWN,
        "shown": len(rows),
        "assets_after": asset_cursor,
        "asset_ids": [a.id for a in assets],
    }
    return figure, latest, str(len(rows)), source, _gaps_summary(covered)


def _gaps_summary(covered) -> list:
    if covered is None:
        return []
    names = [f"{g['name']} ({g['country']})" for g in covered.gaps]
    return [html.P(f"{len(covered.assets)} ready asset(s) reach {covered.covered} places; "
                   f"{len(names)} out of reach:", className="muted", id="coverage-summary"),
            html.Ul([html.Li(n) for n in names[:200]], className="gap-list", id="gap-list")]


@callback(
    Output("alert-details", "children"),
    Output("asset-suggestions", "children"),
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
        return dash.no_update, dash.no_update
    if not alert_id:
        return dash.no_update, dash.no_update
    if alert_id.startswith(ASSET_PREFIX):
        asset = assets_api.feed().get(alert_id[len(ASSET_PREFIX):], viewer.nation)
        return asset_details(asset, viewer.can(Permission.TASK_ASSETS)), []
    stored: StoredAlert | None = services.index.get(alert_id, viewer.restrict(AlertQuery(), services.settings))
    return details_panel(stored), _tasking(stored, viewer)


def _tasking(stored: StoredAlert | None, viewer, message: str = "") -> list:
    if stored is None:
        return []
    return tasking_panel(stored.id, assets_api.assigned_to(stored.id, viewer),
                         assets_api.suggestions_for(stored, viewer, 5),
                         viewer.can(Permission.TASK_ASSETS), message)


@callback(
    Output("asset-suggestions", "children", allow_duplicate=True),
    Input({"type": "task-asset", "action": ALL, "asset": ALL, "alert": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def task_asset(clicks):
    """Assign / Release buttons; the permission is checked here, on the server (``assets_api.task``)."""
    trigger = dash.ctx.triggered_id
    if not trigger or not dash.ctx.triggered[0].get("value"):  # buttons just drawn, not clicked
        return dash.no_update
    services = services_module.current()
    viewer = viewer_for_callback()
    try:
        asset = assets_api.task(trigger["action"], trigger["alert"], trigger["asset"], viewer)
        message = f"{asset.name}: {asset.status.value}"
    except HTTPException as exc:
        message = f"refused: {exc.detail}"
    stored = services.index.get(trigger["alert"], viewer.restrict(AlertQuery(), services.settings))
    return _tasking(stored, viewer, message)


clientside_callback(
    ClientsideFunction(namespace="crisis", function_name="connectLive"),
    Output("live-connection", "data"),
    Input("live-source", "data"),
)

clientside_callback(
    ClientsideFunction(namespace="crisisAssets", function_name="connect"),
    Output("asset-connection", "data"),
    Input("live-source", "data"),
)
