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
from alerts.i18n import N_, terms
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.alerts import alert_marking_attributes
from dashboard.components.language import UNTRANSLATED, page_title
from dashboard.components.times import utc_time

TICK_MS = 5000
SHOWN = 200


def nation_options() -> list[dict]:
    """``ALL`` then every country (ISO 3166-1 alpha-2, Kosovo ``XK``) for the nation pickers, named in the
    current language (``alerts.i18n.terms.country``)."""
    codes = sorted({c.alpha_2 for c in pycountry.countries} | {KOSOVO})
    return [{"label": _("ALL: every nation"), "value": RELEASABLE_TO_ALL}] + [
        {"label": f"{code} · {terms.country(code)}", "value": code} for code in codes]


def _form(prefix: str, alert_id: str | None, with_nation: bool) -> html.Div:
    fields = [
        html.Label([_("Alert id"), dcc.Input(id=f"{prefix}-alert", value=alert_id or "", type="text",
                                          className="alert-id-input")]),
        html.Label([_("Release to"), dcc.Dropdown(id=f"{prefix}-nations", options=nation_options(), multi=True,
                                                  placeholder=_("nations (ISO 3166-1)"))]),
    ]
    if with_nation:
        fields.append(html.Label([_("Reporting nation (when unknown)"), dcc.Dropdown(
            id=f"{prefix}-nation", options=nation_options()[1:], placeholder=_("as the message says"))]))
    fields += [
        html.Label([_("Why"), dcc.Textarea(id=f"{prefix}-reason", maxLength=500, className="reason")]),
        html.Button(_("Release") if prefix == "release" else _("Change or ask"), id=f"{prefix}-submit",
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
            html.H3(_("Change releasability")),
            html.P(_("The originating nation's duty officers change it at once; anyone else asks them. "
                     "The reporting nation always keeps its own alert."), className="muted"),
            _form("change", alert_id, with_nation=False),
        ]))
        sections.append(html.Section(className="sharing-requests", children=[
            html.H3(_("Requests")), html.Div(id="sharing-requests")]))
    if viewer.can(Permission.RELEASE_UNROUTED):
        sections.append(html.Section(className="sharing-unrouted", children=[
            html.H3([_("Unrouted"), " ", html.Span(id="unrouted-count", className="count")]),
            html.P(_("Alerts nobody may see yet: no releasability in the message and no registered feed. "
                     "Release each to the nations that should work it."), className="muted"),
            html.Div(id="unrouted-list"),
            _form("release", alert_id, with_nation=True),
        ]))
    if not sections:
        sections.append(html.P(_("Your role does not share alerts."), className="denied"))
    return html.Div(className="page-body sharing-page", children=[
        html.H2(_("Sharing")), *sections, dcc.Interval(id="sharing-tick", interval=TICK_MS),
        dcc.Store(id="sharing-changed")])


dash.register_page(__name__, path="/sharing", title=page_title(N_("Sharing")), name=N_("Sharing"), layout=layout)


def _request_row(request: ReleasabilityRequest, may_decide: bool, marking: dict) -> html.Tr:
    buttons = [html.Button(_("Approve"), id={"type": "approve-request", "id": request.id}, className="ack-button"),
               html.Button(_("Decline"), id={"type": "decline-request", "id": request.id})] if may_decide else \
        [html.Span(_("awaiting %(who)s") % {"who": request.decides} if request.decides else _("awaiting the admins"),
                   className="muted")]
    return html.Tr(**{"data-request-id": request.id}, **marking, children=[
        html.Td(request.alert_id, **UNTRANSLATED),
        html.Td(f"{request.requested_by} ({request.requested_nation})", **UNTRANSLATED),
        html.Td(", ".join(request.before), **UNTRANSLATED), html.Td(", ".join(request.after), **UNTRANSLATED),
        html.Td(request.reason, **UNTRANSLATED), html.Td(buttons)])


@callback(Output("sharing-requests", "children"), Input("sharing-tick", "n_intervals"),
          Input("sharing-changed", "data"))
def show_requests(_tick, _changed):
    """The pending requests the viewer decides or made."""
    context = callback_context()
    viewer = context.viewer
    found = sharing.requests_for(context.services.centre, viewer)
    if not found:
        return html.P(_("No pending requests."), className="muted")
    centre = context.services.centre
    header = html.Tr([html.Th(h) for h in (_("Alert"), _("Asked by"), _("Now"), _("Asked for"), _("Why"), "")])

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
        return html.P(exc.localized(), className="denied"), ""
    if not result.total:
        return html.P(_("Nothing is unrouted."), className="muted"), "0"
    header = html.Tr([html.Th(h) for h in (_("Alert"), _("Severity"), _("Title"), _("Origin"), _("Why unrouted"),
                                           _("Received"))])
    # origin and reason are recorded with the alert when it arrived (English): shown as recorded
    rows = [html.Tr(**{"data-alert-id": s.id}, **alert_marking_attributes(s, centre.scheme), children=[
        html.Td(s.id, **UNTRANSLATED), html.Td(terms.severity(s.alert.severity.value)),
        html.Td(s.alert.title, **UNTRANSLATED), html.Td(s.routing.origin, **UNTRANSLATED),
        html.Td(s.routing.reason, **UNTRANSLATED), html.Td(utc_time(s.received_at))]) for s in result.alerts]
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
        return exc.localized(), dash.no_update
    if outcome == "changed":
        return _("Released to %(nations)s.") % {"nations": ", ".join(result.routing.releasable_to or [])}, result.id
    if result.decides:
        return _("Asked %(who)s (request %(id)s).") % {"who": result.decides, "id": result.id}, result.id
    return _("Asked the admins (request %(id)s).") % {"id": result.id}, result.id


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
        return exc.localized(), dash.no_update
    return _("Released %(id)s to %(nations)s.") % {"id": stored.id,
                                                    "nations": ", ".join(stored.routing.releasable_to or [])}, \
        stored.id


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
