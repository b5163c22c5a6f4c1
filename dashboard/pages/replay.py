"""The replay page (``/replay``): the map and the alert list as they stood at a chosen moment, for the viewer.

A time slider over the record (from its oldest event to now), a moment typed in (ISO 8601, "Go"), an
exercise to jump to (its STARTEX; the timeline and "step" then keep to its events), play at 1x to 60x
(``replay-play``: each tick moves the moment on by the speed times the real time since the previous tick, by
the centre's clock, ``advance``), step to the next event the viewer may see (alert events: everything but
asset movements, ``ALERT_STREAMS``; or all events), and the timeline of the events up to the moment beside the
list (the same choice). A moment typed before the record's start goes to the start, one after now to now,
saying so. Everything is
``alerts.actions.replay`` (rebuilt from the record, filtered by the viewer's releasability and clearance as
it stood then and stands now): what the viewer could not see then does not appear. The map is drawn by the
live map's layers (``layers``) from an in-memory read model of the picture. A seek shows at most
``PAGE_ALERTS`` alerts (the newest reports); when the viewer could see more then, the count says "newest N
of M".
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from alerts import i18n
from alerts.actions import exercises, replay
from alerts.actions.errors import ActionError
from alerts.core.index import AlertIndex
from alerts.core.query import AlertQuery
from alerts.core.record import instant_of, millis
from alerts.core.time_labels import utc_label
from alerts.core.times import parse_instant
from alerts.i18n import N_, terms
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.alerts import alert_marking_attributes, legend
from dashboard.components.assets import asset_legend
from dashboard.components.graph import graph
from dashboard.components.language import UNTRANSLATED, page_title
from layers.assets import asset_traces
from layers.basemap import map_figure
from layers.coverage import coverage_traces
from layers.incidents import incident_traces

TICK_MS = 1_000
#: The most alerts one seek shows on the map and in the list (the newest reports; the count says when there
#: were more): at 100,000 alerts a whole picture took tens of seconds and a page of many megabytes.
PAGE_ALERTS = 2_000
SPEEDS = (1, 5, 15, 60)
#: Events shown in the timeline beside the list (the latest up to the moment).
TIMELINE_SHOWN = 40
#: How far back the timeline beside the list looks.
TIMELINE_WINDOW = timedelta(hours=6)
#: The record's streams of "alert events" (step and timeline): alert changes and audit entries (who acknowledged,
#: stepped, tasked, released; exercise control), not the asset movements that outnumber them.
ALERT_STREAMS = frozenset({"alerts", "audit"})
STEP_CHOICES = {"alerts": N_("alert events"), "all": N_("all events")}


def advance(value: int, speed: int, last_tick: int | None, now: int, high: int) -> int:
    """The moment (Unix ms) after a play tick at ``now`` (Unix ms, the centre's clock): ``speed`` times the
    real time since ``last_tick`` (the previous tick; None at the first, which counts one ``TICK_MS``), at
    most ``high``."""
    elapsed = TICK_MS if last_tick is None else max(now - last_tick, 0)
    return min(value + int(speed or 1) * elapsed, high)


def _streams(step_kind: str | None) -> frozenset[str] | None:
    return None if step_kind == "all" else ALERT_STREAMS


def _range() -> tuple[int, int]:
    """The slider's bounds (Unix ms): the record's oldest event (or an hour ago) to now."""
    now = datetime.now(UTC)
    centre = callback_context().services.centre
    events = replay.record_of(centre).events
    start = instant_of(events[0].id) if events else now - timedelta(hours=1)
    return millis(start), millis(now)


def _exercise_options() -> list[dict]:
    """The exercises the viewer may know of that have started (newest first)."""
    context = callback_context()
    if context.services.centre.exercises is None:
        return []
    return [{"label": f"{e.name} (STARTEX {utc_label(e.startex)})", "value": e.id}
            for e in exercises.exercises(context.services.centre, context.viewer) if e.startex is not None]


def layout(**_query) -> html.Div:
    """The page: controls, the map, the alert list and the timeline."""
    low, high = _range()
    return html.Div(className="map-page replay-page", children=[
        html.Aside(className="sidebar", children=[
            html.H2(_("Replay")),
            html.Div(id="replay-time", className="replay-time", role="status"),
            html.Label(_("Moment on the timeline"), htmlFor="replay-slider", className="visually-hidden"),
            dcc.Slider(id="replay-slider", min=low, max=high, value=high, step=1000, marks=None, updatemode="mouseup"),
            html.Label([_("Exercise"), dcc.Dropdown(id="replay-exercise", placeholder=_("all events"),
                                                    options=_exercise_options())]),
            html.Label([_("Moment (ISO 8601)"), dcc.Input(id="replay-at", type="text", debounce=True,
                                                         placeholder="2026-11-29T10:00:00Z")]),
            html.Button(_("Go"), id="replay-go"),
            html.Button(_("Step to next event"), id="replay-step"),
            html.Label(_("Step by"), htmlFor="replay-step-kind"),
            dcc.RadioItems(id="replay-step-kind", value="alerts", inline=True,
                           options=[{"label": _(v), "value": k} for k, v in STEP_CHOICES.items()]),
            html.Button(_("Play"), id="replay-toggle"),
            html.Label([_("Speed"), dcc.RadioItems(id="replay-speed", value=15, inline=True,
                                                options=[{"label": f"{s}×", "value": s} for s in SPEEDS])]),
            html.Div(id="replay-message", className="action-message", role="status"),
            legend(), asset_legend(),
        ]),
        html.Main(className="map-area", children=[
            graph("replay-map", className="incident-map", config={"scrollZoom": True}, style={"height": "100%"}),
        ]),
        html.Aside(className="feed", children=[
            html.H2([_("Alerts then"), " ", html.Span(id="replay-count", className="count")]),
            html.Ul(id="replay-alerts", className="alert-list"),  # drawn by assets/replay_list.js
            dcc.Store(id="replay-list"), dcc.Store(id="replay-list-drawn"),
            html.H2(_("Timeline")),
            html.Ol(id="replay-timeline", className="replay-timeline"),
        ]),
        dcc.Interval(id="replay-play", interval=TICK_MS, disabled=True),
        dcc.Store(id="replay-last-tick"),
    ])


dash.register_page(__name__, path="/replay", title=page_title(N_("Replay")), name=N_("Replay"), layout=layout)


@callback(Output("replay-play", "disabled"), Output("replay-toggle", "children"),
          Output("replay-last-tick", "data", allow_duplicate=True),
          Input("replay-toggle", "n_clicks"), State("replay-play", "disabled"), prevent_initial_call=True)
def toggle(_clicks, disabled):
    """Play / pause (the first tick after either counts one tick)."""
    return (False, _("Pause"), None) if disabled else (True, _("Play"), None)


@callback(Output("replay-slider", "value"), Output("replay-slider", "max"), Output("replay-message", "children"),
          Output("replay-last-tick", "data"),
          Input("replay-play", "n_intervals"), Input("replay-step", "n_clicks"), Input("replay-go", "n_clicks"),
          Input("replay-at", "value"), Input("replay-exercise", "value"),
          State("replay-slider", "value"), State("replay-speed", "value"), State("replay-slider", "max"),
          State("replay-slider", "min"), State("replay-last-tick", "data"), State("replay-step-kind", "value"),
          prevent_initial_call=True)
def move(_tick, _step, _go, typed, exercise_id, value, speed, high, low, last_tick, step_kind):
    """Move the moment: a play tick (``advance``), the next event (of the chosen exercise, if one is; alert
    events or all), the moment typed in (kept within the record's start and now), or the exercise's STARTEX."""
    context = callback_context()
    now = millis(context.services.centre.clock())
    high = max(high or 0, now)
    value = value or high
    if ctx.triggered_id == "replay-exercise":
        if not exercise_id:
            return value, high, "", None
        try:
            started = exercises.exercise(context.services.centre, context.viewer, exercise_id).startex
        except ActionError as exc:
            return value, high, exc.localized(), None
        return (millis(started), high, "", None) if started else (value, high, _("not started yet"), None)
    if ctx.triggered_id == "replay-play":
        return advance(value, speed, last_tick, now, high), high, "", now
    if ctx.triggered_id == "replay-step":
        since = datetime.fromtimestamp((value + 1) / 1000, UTC)
        found = replay.timeline(context.services.centre, context.viewer, since=since, limit=1,
                                exercise_id=exercise_id or None, streams=_streams(step_kind)).events
        return (millis(found[0].at), high, "", None) if found else (value, high, _("no later event"), None)
    try:
        at = millis(parse_instant((typed or "").strip(), "moment"))
    except ValueError as exc:
        return value, high, str(exc), None
    if low is not None and at < low:
        start = datetime.fromtimestamp(low / 1000, UTC).isoformat(timespec="seconds")
        return low, high, _("the record starts at %(start)s: showing its start") % {"start": start}, None
    if at > high:
        return high, high, _("that is after now: showing now"), None
    return at, high, "", None


def _alert_item(stored, ack, scheme) -> dict:
    """One alert of the list as it stood, as the data ``assets/replay_list.js`` draws its item from (the list
    is drawn outside React: 2,000 items as Dash components kept the browser busy for over a minute): marked
    (``marking``: its ``data-marking``, so the banner covers it, and its marking line ``line``), EXERCISE when
    it is one, its status (``status``, and ``shown`` in words), and who acknowledged it (only that: the record
    names no actor for the other status changes). Every text is in the viewer's language already."""
    status = stored.status.value
    shown = terms.status(status)
    if ack is not None:
        by = _("acknowledged by %(who)s") % {"who": ack.by}
        shown = by if status == "acknowledged" else f"{shown} · {by}"
    return {"id": stored.id, "status": status, "severity": stored.alert.severity.value,
            "marking": alert_marking_attributes(stored, scheme), "line": stored.routing.marking(scheme).line(),
            "exercise": _("EXERCISE") if stored.alert.exercise else "", "title": stored.alert.title,
            "severity_label": terms.severity(stored.alert.severity.value), "shown": shown}


@callback(Output("replay-map", "figure"), Output("replay-list", "data"), Output("replay-count", "children"),
          Output("replay-timeline", "children"), Output("replay-time", "children"),
          Input("replay-slider", "value"), Input("replay-exercise", "value"), Input("replay-step-kind", "value"))
def render(value, exercise_id=None, step_kind=None):
    """The picture at the slider's moment, as the viewer could see it."""
    context = callback_context()
    at = datetime.fromtimestamp(value / 1000, UTC) if value else datetime.now(UTC)
    try:
        picture = replay.state_at(context.services.centre, context.viewer, at, limit=PAGE_ALERTS)
        events = replay.timeline(context.services.centre, context.viewer, since=at - TIMELINE_WINDOW,
                                 until=at, exercise_id=exercise_id or None,
                                 streams=_streams(step_kind)).events[-TIMELINE_SHOWN:]
    except ActionError as exc:
        return dash.no_update, [], "", [], exc.localized()
    index = AlertIndex()
    index.load((stored for stored, _ in picture.alerts), "0-0")
    traces = incident_traces(index.select(AlertQuery())) + asset_traces(picture.assets) + coverage_traces(None)
    figure = map_figure(traces, dash.get_asset_url(""), uirevision="replay")
    scheme = context.services.centre.scheme
    items = [_alert_item(stored, ack, scheme) for stored, ack in picture.alerts]
    timeline = [html.Li([utc_label(e.at, date=False, seconds=True), " ",  # the record's own words: as recorded
                         html.Span(f"{e.kind} {e.object}" + (f" ({e.actor})" if e.actor else ""), **UNTRANSLATED)],
                        **{"data-event-id": e.id}) for e in reversed(events)]
    count = i18n.number(len(items)) if not picture.truncated else _(
        "newest %(shown)s of %(total)s") % {"shown": i18n.number(len(items)), "total": i18n.number(picture.total)}
    return (figure, items, count, timeline,
            _("As it stood at %(at)s") % {"at": at.isoformat(timespec="milliseconds")})


clientside_callback(ClientsideFunction("crisisReplay", "list"), Output("replay-list-drawn", "data"),
                    Input("replay-list", "data"))
