"""The duty officer's live map: filters, the regional map, the latest alerts and details.

The figure is built on the server from the read model whenever filters change
(and by a slow watchdog), with the latest alerts as plain data; the page
renders the list, and new and changed alerts arrive afterwards by server push
(``assets/live.js`` over the page's one stream, ``/live/map``, which carries the
asset positions too) as partial updates to the map and
the list. The build returns the stream cursor it reflects, so the browser
resumes exactly after it: no gap, no duplicate. It returns too the marking of
everything it shows (``marking``: the most restrictive over the matching
alerts, drawn or listed), which the page puts on the map and raises as live
alerts arrive (``assets/live.js``, ``assets/marking.js``).

Words are in the request's language (``alerts.i18n``; coded values through ``alerts.i18n.terms``, country
names CLDR's); names, ids and place names are content (``UNTRANSLATED``).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
)

from alerts import i18n
from alerts.actions import tasking
from alerts.actions.errors import ActionError
from alerts.actions.markings import marking_of_ids
from alerts.actions.visibility import (
    restricted,
    visible_alert,
    visible_asset,
    visible_assets,
)
from alerts.core.assets import AssetType
from alerts.core.coverage import coverage
from alerts.core.model import AlertType, Severity, StoredAlert
from alerts.core.query import AlertQuery, encode_query
from alerts.core.roles import Permission
from alerts.core.suitability import SUITABLE_CAPABILITIES
from alerts.i18n import N_, ngettext, terms
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components import ids
from dashboard.components.alerts import details_panel, exercise_view_default, legend
from dashboard.components.assets import asset_details, asset_legend, tasking_panel
from dashboard.components.graph import graph
from dashboard.components.language import UNTRANSLATED, page_title
from dashboard.live.payloads import alert_data
from layers.assets import asset_traces
from layers.basemap import map_figure
from layers.cells import cell_trace, drawn, parse_view
from layers.coverage import coverage_traces
from layers.incidents import incident_traces, type_label

WINDOWS = [(N_("1 h"), 1), (N_("6 h"), 6), (N_("24 h"), 24), (N_("7 days"), 168), (N_("30 days"), 720),
           (N_("all"), 0)]
COVERAGE_MINUTES = [15, 30, 60, 120]
COVERAGE_CAPABILITIES = sorted({t.value for t in AssetType} | set().union(*SUITABLE_CAPABILITIES.values()))


def _asset_controls() -> html.Div:
    """Layer toggles and the coverage question: which capability, within how many minutes."""
    return html.Div(
        className="filters asset-controls",
        children=[
            html.Label(_("Layers")),
            dcc.Checklist(id=ids.LAYER_TOGGLES, options=[{"label": _("assets"), "value": "assets"},
                                                       {"label": _("coverage"), "value": "coverage"}],
                          value=["assets"], inline=True),
            html.Label(_("Coverage: capability")),
            dcc.Dropdown(id=ids.COVERAGE_CAPABILITY, value="medevac", clearable=False,
                         options=[{"label": terms.capability(c), "value": c} for c in COVERAGE_CAPABILITIES]),
            html.Label(_("Coverage: reachable within")),
            dcc.RadioItems(id=ids.COVERAGE_MINUTES, value=60, inline=True,
                           options=[{"label": _("%(minutes)s min") % {"minutes": i18n.number(m)}, "value": m}
                                    for m in COVERAGE_MINUTES]),
            html.Div(id=ids.COVERAGE_GAPS, className="coverage-gaps"),
        ],
    )


def _filters() -> html.Div:
    services, viewer = callback_context().services, callback_context().viewer
    countries = sorted(
        (c for c in services.regions.countries if c.core), key=lambda c: c.name
    ) + sorted((c for c in services.regions.countries if not c.core), key=lambda c: c.name)
    return html.Div(
        className="filters",
        children=[
            html.Label(_("Severity")),
            dcc.Checklist(
                id=ids.FILTER_SEVERITY,
                options=[{"label": terms.severity(s.value), "value": s.value} for s in Severity],
                value=[s.value for s in Severity],
                inline=True,
            ),
            html.Label(_("Type")),
            dcc.Dropdown(
                id=ids.FILTER_TYPE,
                options=[{"label": type_label(t.value), "value": t.value} for t in AlertType],
                multi=True,
                placeholder=_("all types"),
            ),
            html.Label(_("Country")),
            dcc.Dropdown(
                id=ids.FILTER_COUNTRY,
                options=[{"label": f"{terms.country(c.iso2)} ({c.iso2})", "value": c.iso2} for c in countries],
                multi=True,
                placeholder=_("all countries"),
            ),
            html.Label(_("Reported within")),
            dcc.RadioItems(
                id=ids.FILTER_WINDOW,
                options=[{"label": _(label), "value": hours} for label, hours in WINDOWS],
                value=0,
                inline=True,
            ),
            html.Label(_("Real / exercise")),
            dcc.RadioItems(
                id=ids.FILTER_EXERCISE,
                options=[{"label": _("all"), "value": "all"}, {"label": _("real only"), "value": "real"},
                         {"label": _("exercise only"), "value": "exercise"}],
                value=exercise_view_default(viewer),
                inline=True,
            ),
        ],
    )


def layout(**_query) -> html.Div:
    """The page: filters and legends (collapsible), the map with its picker, the latest alerts, the detail sheet.

    Phone first (390 px): one column that scrolls as a page (filters folded, the map, the whole list), the
    details in a bottom sheet; from 901 px three columns, the details in a side sheet under the list.
    """
    return html.Div(
        className="map-page",
        children=[
            html.Details(id=ids.FILTER_PANEL, className="sidebar", children=[
                html.Summary(_("Filters and layers"), className="filter-summary"),
                _filters(), _asset_controls(), legend(), asset_legend()]),
            html.Main(
                className="map-area",
                children=[
                    graph(ids.INCIDENT_MAP, className="incident-map", config={"scrollZoom": True},
                          style={"height": "100%"}),
                    html.Div(id=ids.LIVE_STATUS, className="live-status", children=_("connecting…"), role="status"),
                    html.Div(id=ids.MAP_PICKER, className="map-picker", hidden=True, role="dialog",
                             **{"aria-label": _("Features under the pointer")}),
                ],
            ),
            html.Aside(
                className="feed",
                **{"aria-label": _("Latest alerts")},
                children=[
                    html.H2([_("Latest alerts"), " ", html.Span(id=ids.SHOWN_COUNT, className="count")]),
                    html.Div(id=ids.FEED_LIST, className="feed-list", children=[
                        html.Button(id=ids.NEW_PILL, className="new-pill", hidden=True, type="button",
                                    **{"aria-live": "polite"}),
                        html.Ul(id=ids.ALERT_LIST, className="alert-list", **{"aria-label": _("Latest alerts")}),
                    ]),
                    html.Section(id=ids.DETAIL_SHEET, className="detail-sheet", hidden=True,
                                 **{"aria-labelledby": "detail-sheet-title"}, children=[
                        html.Div(className="sheet-head", children=[
                            html.H2(_("Details"), id="detail-sheet-title"),
                            html.Button(_("Close"), id=ids.DETAIL_CLOSE, className="sheet-close", type="button",
                                        **{"aria-label": _("Close details")}),
                        ]),
                        html.Div(id=ids.ALERT_DETAILS, className="details"),
                        html.Div(id=ids.ASSET_SUGGESTIONS, className="details"),
                    ]),
                ],
            ),
            dcc.Store(id=ids.LIVE_SOURCE),
            dcc.Store(id=ids.MAP_VIEW),
            dcc.Store(id=ids.MAP_MOVED),
            dcc.Store(id=ids.SELECTED_ALERT),
            dcc.Store(id=ids.LIVE_CONNECTION),
            dcc.Interval(id=ids.WATCHDOG, interval=60_000),
        ],
    )


dash.register_page(__name__, path="/", title=page_title(N_("Live map")), name=N_("Live map"), layout=layout)


def build_query(severities, types, countries, window_hours, exercise, now: datetime) -> AlertQuery:
    """The map's filters as a query: ``severities`` None means any, an empty list none."""
    return AlertQuery(
        severities=frozenset(severities) if severities is not None else None,
        types=frozenset(types or ()),
        countries=frozenset(countries or ()),
        since=now - timedelta(hours=window_hours) if window_hours else None,
        exercise=exercise or "all",
    )


@callback(
    Output(ids.INCIDENT_MAP, "figure"),
    Output(ids.SHOWN_COUNT, "children"),
    Output(ids.LIVE_SOURCE, "data"),
    Output(ids.COVERAGE_GAPS, "children"),
    Input(ids.FILTER_SEVERITY, "value"),
    Input(ids.FILTER_TYPE, "value"),
    Input(ids.FILTER_COUNTRY, "value"),
    Input(ids.FILTER_WINDOW, "value"),
    Input(ids.FILTER_EXERCISE, "value"),
    Input(ids.WATCHDOG, "n_intervals"),
    Input(ids.LAYER_TOGGLES, "value"),
    Input(ids.COVERAGE_CAPABILITY, "value"),
    Input(ids.COVERAGE_MINUTES, "value"),
    Input(ids.MAP_MOVED, "data"),
    State(ids.MAP_VIEW, "data"),
    State(ids.LIVE_SOURCE, "data"),
)
def rebuild_map(severities, types, countries, window_hours, exercise, _tick, layers=None, capability=None,
                minutes=None, _moved=None, view=None, last=None):
    """The figure, the count, and what the page's live script starts from (cursors, latest alerts).

    Up to ``map_points_max`` located incidents are all drawn as points, whatever the view; above it, what is
    drawn follows the view (``view``, the page's view store: points in view, or grid cells; ``layers.cells``),
    and the spec says ``partial``. A move of the view rebuilds only a partial picture (``MAP_MOVED`` is set
    only then; ``last``, the spec built before, says so too): a rebuild asked while another is under way
    makes Dash drop the first one's answer, so a move must never ask for one it would not draw. The figure
    is put at the view the user has (plotly's ``uirevision`` alone lost it once the graph had been redrawn
    with its own layout)."""
    if dash.ctx.triggered_id == ids.MAP_MOVED and not (last or {}).get("partial"):
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    services, viewer = callback_context().services, callback_context().viewer
    centre = services.centre
    layers = layers if layers is not None else ["assets"]
    asset_cursor = centre.asset_index.cursor  # taken before reading, like the alert cursor
    assets = sorted(visible_assets(centre, viewer), key=lambda a: a.id)
    covered = coverage(assets, capability, float(minutes), centre.places, viewer.nation) \
        if "coverage" in layers and capability and minutes else None
    query = restricted(centre, viewer, build_query(severities, types, countries, window_hours, exercise,
                                                   datetime.now(UTC)))
    cursor = centre.index.cursor  # taken before reading: live events after it follow
    rows = centre.index.select(query)
    seen = parse_view(view)
    shown = drawn(rows, seen, services.settings.map_points_max)
    traces = coverage_traces(covered) + asset_traces(assets, "assets" in layers) + \
        incident_traces(shown.points, cell_trace(shown.cells))
    figure = map_figure(traces, dash.get_asset_url(""), centre=seen.centre if seen else None,
                        zoom=seen.zoom if seen and seen.centre else None)
    source = {
        "query": encode_query(severities, types, countries, window_hours, exercise),
        "after": cursor,
        "shown": len(rows),
        "drawn": len(shown.points),  # the points of the built traces
        "partial": shown.partial,  # not every located incident is a point (cells, or outside the view)
        "items": [alert_data(s) for s in centre.index.get_many(rows["id"].iloc[:ids.LIST_LIMIT]) if s is not None],
        "marking": marking_of_ids(centre, rows["id"]).as_dict(),
        "assets_after": asset_cursor,
        "asset_ids": [a.id for a in assets],
        "ping_ms": int(services.settings.live_ping_seconds * 1000),
    }
    return figure, str(len(rows)), source, _gaps_summary(covered)


def _gaps_summary(covered) -> list:
    if covered is None:
        return []
    names = [f"{g['name']} ({g['country']})" for g in covered.gaps]
    # one sentence; English keeps "asset(s)" (tests and habit), other languages choose by the assets' count
    summary = ngettext("%(assets)s ready asset(s) reach %(places)s places; %(gaps)s out of reach:",
                       "%(assets)s ready asset(s) reach %(places)s places; %(gaps)s out of reach:",
                       len(covered.assets)) % {"assets": i18n.number(len(covered.assets)),
                                               "places": i18n.number(covered.covered), "gaps": i18n.number(len(names))}
    return [html.P(summary, className="muted", id="coverage-summary"),
            html.Ul([html.Li(n, **UNTRANSLATED) for n in names[:200]], className="gap-list", id="gap-list")]


@callback(
    Output(ids.ALERT_DETAILS, "children"),
    Output(ids.ASSET_SUGGESTIONS, "children"),
    Output(ids.DETAIL_SHEET, "hidden"),
    Input(ids.SELECTED_ALERT, "data"),
    prevent_initial_call=True,
)
def show_details(selected):
    """Details of what is selected (in the list, on the map or in its picker: ``assets/live.js``,
    ``assets/map_select.js``): ``{"id": alert id}`` or ``{"kind": "asset", "id": asset id}``, shown in the
    detail sheet; no id (the sheet closed) hides it. Only what is released to the viewer is shown, whatever
    id is posted."""
    selected = selected or {}
    item_id = selected.get("id")
    if not item_id or not isinstance(item_id, str):
        return [], [], True
    context = callback_context()
    centre, viewer = context.services.centre, context.viewer
    if selected.get("kind") == "asset":
        try:  # released to the viewer, naming only alerts it may see
            shown = visible_asset(centre, viewer, item_id)
        except ActionError:
            shown = None
        return asset_details(shown, viewer.can(Permission.TASK_ASSETS)), [], False
    try:
        stored: StoredAlert | None = visible_alert(centre, viewer, item_id)
    except ActionError:
        stored = None
    return details_panel(stored, centre.scheme), _tasking(stored), False


def _tasking(stored: StoredAlert | None, message: str = "") -> list:
    if stored is None:
        return []
    context = callback_context()
    centre, viewer = context.services.centre, context.viewer
    return tasking_panel(stored.id, tasking.assigned_to(centre, viewer, stored.id),
                         tasking.suggestions(centre, viewer, stored, 5), viewer.can(Permission.TASK_ASSETS), message)


@callback(
    Output(ids.ASSET_SUGGESTIONS, "children", allow_duplicate=True),
    Input({"type": "task-asset", "action": ALL, "asset": ALL, "alert": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def task_asset(clicks):
    """Assign / Release buttons; the permission is checked on the server (``alerts.actions.tasking``)."""
    trigger = dash.ctx.triggered_id
    if not trigger or not dash.ctx.triggered[0].get("value"):  # buttons just drawn, not clicked
        return dash.no_update
    context = callback_context()
    centre, viewer = context.services.centre, context.viewer
    action = tasking.assign if trigger["action"] == "assign" else tasking.release
    try:
        asset = action(centre, viewer, trigger["alert"], trigger["asset"])
        message = [html.Span(asset.name, **UNTRANSLATED), ": ", terms.asset_status(asset.status.value)]
    except ActionError as exc:
        message = _("refused: %(reason)s") % {"reason": exc.localized()}
    try:
        stored = visible_alert(centre, viewer, trigger["alert"])
    except ActionError:
        stored = None
    return _tasking(stored, message)


clientside_callback(  # the view as the build reads it (assets/map_select.js), once a move has ended
    ClientsideFunction(namespace="crisis", function_name="mapView"),
    Output(ids.MAP_VIEW, "data"),
    Output(ids.MAP_MOVED, "data"),
    Input(ids.INCIDENT_MAP, "relayoutData"),
    State(ids.LIVE_SOURCE, "data"),
    prevent_initial_call=True,
)


clientside_callback(
    ClientsideFunction(namespace="crisis", function_name="connectLive"),
    Output(ids.LIVE_CONNECTION, "data"),
    Input(ids.LIVE_SOURCE, "data"),
)
