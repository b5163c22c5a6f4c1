"""The sharing page: change an alert's releasability (or ask its originating nation), decide requests,
and, for admins, the Unrouted view with its one-action release.

Every button runs an ``alerts.actions.sharing`` use case, which checks the
caller's rights on the server (a callback can be POSTed directly: hiding a
section protects nothing). The lists refresh every few seconds.
"""
from __future__ import annotations

from urllib.parse import unquote

import dash
import pycountry
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from alerts.actions import sharing
from alerts.actions.errors import ActionError
from alerts.core.markings import RELEASABLE_TO_ALL
from alerts.core.nations import KOSOVO
from alerts.core.query import Page
from alerts.core.roles import Permission
from alerts.core.sharing import ReleasabilityRequest
from dashboard.auth.context import callback_context
from dashboard.components.alerts import alert_marking_attributes
from dashboard.components.times import utc_time

TICK_MS = 5000
SHOWN = 200


def nation_options() -> list[dict]:
    """``ALL`` then every country (ISO 3166-1 alpha-2, Kosovo ``XK``) for the nation pickers."""
    countries = [(c.alpha_2, c.name) for c in pycountry.countries] + [(KOSOVO, "Kosovo")]
    return [{"label": "ALL: every nation", "value": RELEASABLE_TO_ALL}] + [
        {"label": f"{code} · {name}", "value": code} for code, name in sorted(countries)]


def _form(prefix: str, alert_id: str | None, with_nation: bool) -> html.Div:
    fields = [
        html.Label(["Alert id", dcc.Input(id=f"{prefix}-alert", value=alert_id or "", type="text",
                                          className="alert-id-input")]),
        html.Label(["Release to", dcc.Dropdown(id=f"{prefix}-nations", options=nation_options(), multi=True,
                                               placeholder="nations (ISO 3166-1)")]),
    ]
    if with_nation:
        fields.append(html.Label(["Reporting nation (when unknown)", dcc.Dropdown(
            id=f"{prefix}-nation", options=nation_options()[1:], placeholder="as the message says")]))
    fields += [
        html.Label(["Why", dcc.Textarea(id=f"{prefix}-reason", maxLength=500, className="reason")]),
        html.Button("Release" if prefix == "release" else "Change or ask", id=f"{prefix}-submit",
                    className="primary"),
        html.Div(id=f"{prefix}-message", className="action-message", role="status"),
    ]
    return html.Div(className="sharing-form", children=fields)


def layout(alert: str | None = None, **_query) -> html.Div:
    """The sections the viewer's role may use (``alert``: an alert id to prefill, URL-encoded)."""
    viewer = callback_context().viewer
    alert_id = unquote(alert) if alert else None
    sections = []
    if viewer.can(Permission.CHANGE_RELEASABILITY) or viewer.can(Permission.RELEASE_UNROUTED):
        sections.append(html.Section(className="sharing-change", children=[
            html.H3("Change releasability"),
            html.P("The originating nation's duty officers change it at once; anyone else asks them. "
                   "The reporting nation always keeps its own alert.", className="muted"),
            _form("change", alert_id, with_nation=False),
        ]))
        sections.append(html.Section(className="sharing-requests", children=[
            html.H3("Requests"), html.Div(id="sharing-requests")]))
    if viewer.can(Permission.RELEASE_UNROUTED):
        sections.append(html.Section(className="sharing-unrouted", children=[
            html.H3(["Unrouted ", html.Span(id="unrouted-count", className="count")]),
            html.P("Alerts nobody may see yet: no releasability in the message and no registered feed. "
                   "Release each to the nations that should work it.", className="muted"),
            html.Div(id="unrouted-list"),
            _form("release", alert_id, with_nation=True),
        ]))
    if not sections:
        sections.append(html.P("Your role does not share alerts.", className="denied"))
    return html.Div(className="page-body sharing-page", children=[
        html.H2("Sharing"), *sections, dcc.Interval(id="sharing-tick", interval=TICK_MS),
        dcc.Store(id="sharing-changed")])


dash.register_page(__name__, path="/sharing", title="Sharing · Crisis dashboard", name="Sharing", layout=layout)


def _request_row(request: ReleasabilityRequest, may_decide: bool, marking: dict) -> html.Tr:
    buttons = [html.Button("Approve", id={"type": "approve-request", "id": request.id}, className="ack-button"),
               html.Button("Decline", id={"type": "decline-request", "id": request.id})] if may_decide else \
        [html.Span("awaiting " + (request.decides or "the admins"), className="muted")]
    return html.Tr(**{"data-request-id": request.id}, **marking, children=[
        html.Td(request.alert_id), html.Td(f"{request.requested_by} ({request.requested_nation})"),
        html.Td(", ".join(request.before)), html.Td(", ".join(request.after)), html.Td(request.reason),
        html.Td(buttons)])


@callback(Output("sharing-requests", "children"), Input("sharing-tick", "n_intervals"),
          Input("sharing-changed", "data"))
def show_requests(_tick, _changed):
    """The pending requests the viewer decides or made."""
    context = callback_context()
    viewer = context.viewer
    found = sharing.requests_for(context.services.centre, viewer)
    if not found:
        return html.P("No pending requests.", className="muted")
    centre = context.services.centre
    header = html.Tr([html.Th(h) for h in ("Alert", "Asked by", "Now", "Asked for", "Why", "")])

    def marking(request: ReleasabilityRequest) -> dict:  # the row quotes the alert: the banner covers its marking
        stored = centre.index.get(request.alert_id)
        return alert_marking_attributes(stored, centre.scheme) if stored is not None else {}

    return html.Table([html.Thead(header), html.Tbody([_request_row(r, r.may_decide(viewer), marking(r))
                                                       for r in found])], className="requests-table")


@callback(Output("unrouted-list", "children"), Output("unrouted-count", "children"),
          Input("sharing-tick", "n_intervals"), Input("sharing-changed", "data"))
def show_unrouted(_tick, _changed):
    """The unrouted alerts within the viewer's clearance (admins only: the use case checks)."""
    context = callback_context()
    centre = context.services.centre
    try:
        result = sharing.unrouted(centre, context.viewer, Page(SHOWN, 0))
    except ActionError as exc:
        return html.P(exc.message, className="denied"), ""
    if not result.total:
        return html.P("Nothing is unrouted.", className="muted"), "0"
    header = html.Tr([html.Th(h) for h in ("Alert", "Severity", "Title", "Origin", "Why unrouted", "Received")])
    rows = [html.Tr(**{"data-alert-id": s.id}, **alert_marking_attributes(s, centre.scheme), children=[
        html.Td(s.id), html.Td(s.alert.severity.value), html.Td(s.alert.title), html.Td(s.routing.origin),
        html.Td(s.routing.reason), html.Td(utc_time(s.received_at))]) for s in result.alerts]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="unrouted-table"), str(result.total)


@callback(Output("change-message", "children"), Output("sharing-changed", "data", allow_duplicate=True),
          Input("change-submit", "n_clicks"),
          State("change-alert", "value"), State("change-nations", "value"), State("change-reason", "value"),
          prevent_initial_call=True)
def change(_clicks, alert_id, nations, reason):
    """Change the alert's releasability, or ask its originating nation."""
    context = callback_context()
    try:
        outcome, result = sharing.change_releasability(context.services.centre, context.viewer,
                                                       (alert_id or "").strip(), nations or [], reason or "")
    except ActionError as exc:
        return exc.message, dash.no_update
    if outcome == "changed":
        return f"Released to {', '.join(result.routing.releasable_to or [])}.", result.id
    return f"Asked {result.decides or 'the admins'} (request {result.id}).", result.id


@callback(Output("release-message", "children"), Output("sharing-changed", "data", allow_duplicate=True),
          Input("release-submit", "n_clicks"),
          State("release-alert", "value"), State("release-nations", "value"), State("release-nation", "value"),
          State("release-reason", "value"), prevent_initial_call=True)
def release(_clicks, alert_id, nations, nation, reason):
    """Release an unrouted alert (admins)."""
    context = callback_context()
    try:
        stored = sharing.release(context.services.centre, context.viewer, (alert_id or "").strip(), nations or [],
                                 reason or "", nation=nation or None)
    except ActionError as exc:
        return exc.message, dash.no_update
    return f"Released {stored.id} to {', '.join(stored.routing.releasable_to or [])}.", stored.id


@callback(Output("sharing-changed", "data", allow_duplicate=True),
          Input({"type": "approve-request", "id": ALL}, "n_clicks"),
          Input({"type": "decline-request", "id": ALL}, "n_clicks"), prevent_initial_call=True)
def decide(_approvals, _declines):
    """Approve or decline the request whose button was pressed (the use case checks who may)."""
    pressed = ctx.triggered_id
    if not pressed or not any(t["value"] for t in ctx.triggered):
        return dash.no_update
    context = callback_context()
    try:
        sharing.decide(context.services.centre, context.viewer, pressed["id"],
                       pressed["type"] == "approve-request")
    except ActionError:
        return dash.no_update
    return pressed["id"]
