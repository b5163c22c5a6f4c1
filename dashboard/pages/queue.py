"""The response queue: open alerts most urgent first, one-click acknowledgment, the selected alert's checklist.

Live, not polled: the page's live stream (``/live/alerts``, ``assets/page_live.js``) sets ``QUEUE_LIVE``
on every change to an alert the viewer may see (a new alert; an acknowledgment, a step done, an escalation
or a resolution, by anyone, from any page or the API), and the queue and the open checklist are read again
from the read model and sent only when they changed. The countdowns tick in the browser
(``assets/responder.js``); the critical alarm (banner, title, sound, announcement) is every page's
(``assets/alarm.js``). The checklist opens in a side sheet (desktop) or a bottom sheet (phone), always in
view, closed by its button or Escape (the focus goes back to the alert's Checklist button). Resolving an
alert with steps still open asks first, in a modal dialog; a resolved alert's checklist says so, with no
countdowns. Every button is checked on the server (``alerts.actions.workflow``): a callback can be POSTed
directly, so hiding a button protects nothing.

Words are in the request's language (``alerts.i18n``; severities, statuses, types and roles through
``alerts.i18n.terms``; a checklist step's title through the catalogue, which holds the shipped templates'
titles); headlines, names, notes and place names are content (``UNTRANSLATED``).
"""
from __future__ import annotations

import hashlib
import json

import dash
from dash import ALL, Input, Output, State, callback, dcc, html

from alerts import i18n
from alerts.actions import workflow
from alerts.actions.errors import ActionError
from alerts.core.markings import Classifications
from alerts.core.response import CaseState
from alerts.core.roles import Permission
from alerts.core.viewer import Viewer
from alerts.i18n import N_, ngettext, terms
from alerts.i18n import gettext as _
from alerts.i18n.content import headline
from dashboard.auth.context import callback_context
from dashboard.components.alerts import alert_marking_attributes, exercise_tag, fill
from dashboard.components.ids import CHECKLIST_CLOSE, CHECKLIST_PANEL, QUEUE_LIVE, RESOLVE_DIALOG, SELECTED_CASE
from dashboard.components.language import UNTRANSLATED, page_title
from layers.incidents import escalation_label, type_label

NO_SELECTION = N_("Select an alert to see its checklist.")


def _content(value) -> html.Span:
    """``value`` (a headline, a name, a note, a place) as content: never translated."""
    return html.Span(value, **UNTRANSLATED)


def layout(**_query) -> html.Div:
    """The page: the queue and the selected alert's checklist (a sheet)."""
    return html.Div(
        className="page-body queue-page",
        children=[
            html.Div(className="queue-head", children=[
                html.H2([_("Response queue"), " ", html.Span(id="queue-count", className="count")]),
            ]),
            html.Div(id="action-message", className="action-message", role="status"),
            html.Div(className="queue-layout", children=[
                html.Ul(id="queue", className="queue"),
                html.Section(id=CHECKLIST_PANEL, className="checklist-panel", role="region",
                             **{"aria-label": _("Checklist")},
                             children=html.P(_(NO_SELECTION), className="muted")),
            ]),
            dcc.Store(id=SELECTED_CASE),
            dcc.Store(id="queue-sig"),
            dcc.Store(id="panel-sig"),
            dcc.Store(id="workflow-changed"),
            dcc.Store(id=QUEUE_LIVE),
        ],
    )


dash.register_page(__name__, path="/queue", title=page_title(N_("Response queue")), name=N_("Response queue"),
                   layout=layout)


def _countdown(deadline, acknowledged: bool) -> html.Span | None:
    """A countdown ticked by ``assets/responder.js``, which words it from ``data-what`` (a key, not text)."""
    if deadline is None:
        return html.Span(_("all steps done"), className="countdown done")
    return html.Span("", className="countdown", **{"data-deadline": deadline.isoformat(),
                                                  "data-what": "next step" if acknowledged else "to acknowledge"})


def _queue_item(entry: workflow.QueueEntry, viewer: Viewer, selected: str | None,
                scheme: Classifications) -> html.Li:
    alert = entry.stored.alert
    ack = entry.acknowledged
    new_critical = alert.severity.value == "critical" and ack is None
    classes = ["queue-item", f"severity-{alert.severity.value}", f"level-{entry.level}"]
    if new_critical:
        classes.append("pulse")
    if entry.stored.id == selected:
        classes.append("selected")
    place = entry.stored.placement.country or "—"
    if entry.stored.region_name:
        place = f"{entry.stored.region_name}, {place}"
    actions = []
    if ack is None and viewer.can(Permission.ACKNOWLEDGE):
        actions.append(html.Button(_("Acknowledge"), id={"type": "ack", "id": entry.stored.id}, className="ack-button"))
    actions.append(html.Button(_("Checklist"), id={"type": "select-case", "id": entry.stored.id}, className="open-button",
                               **{"aria-controls": CHECKLIST_PANEL,
                                  "aria-expanded": "true" if entry.stored.id == selected else "false"}))
    return html.Li(
        className=" ".join(classes),
        **{"data-alert-id": entry.stored.id, "data-critical-new": "1" if new_critical else "0"},
        **alert_marking_attributes(entry.stored, scheme),
        children=[
            html.Div(className="queue-line", children=[
                html.Span(i18n.upper(terms.severity(alert.severity.value)), className=f"sev sev-{alert.severity.value}"),
                html.Span(escalation_label(entry.level), className=f"escalated escalated-{entry.level}")
                if entry.level else None,
                exercise_tag(alert.exercise),
                html.Span(headline(alert), className="title", **UNTRANSLATED),
            ]),
            # entry.status is the queue's word for the code ("in progress" for in_progress)
            html.Div([type_label(alert.type.value), " · ", _content(place), " · ",
                      *(fill(_("%(status)s by %(name)s"), status=_status(entry.status), name=_content(ack.by))
                        if ack else [_status(entry.status)])], className="meta"),
            html.Div(className="queue-actions", children=[_countdown(entry.deadline, ack is not None), *actions]),
        ],
    )


def _title(step) -> str:
    """A checklist step's title in the request's language (the catalogue holds the shipped templates' titles;
    another title as it is). Never ``gettext("")``, which is the catalogue's header."""
    return _(step.title) if step.title else ""


def _status(queue_status: str) -> str:
    """``workflow.QueueEntry.status`` (``new``, ``acknowledged``, ``in progress``) in words."""
    return terms.status(queue_status.replace(" ", "_"))


def _signature(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()


@callback(
    Output("queue", "children"),
    Output("queue-count", "children"),
    Output("queue-sig", "data"),
    Input(QUEUE_LIVE, "data"),
    Input("workflow-changed", "data"),
    Input(SELECTED_CASE, "data"),
    State("queue-sig", "data"),
)
def refresh_queue(_live, _changed, selected, last_signature):
    """The queue, most urgent first (read again on each live event); nothing is sent when unchanged."""
    context = callback_context()
    viewer = context.viewer
    centre = context.services.centre
    entries = workflow.open_queue(centre, viewer)
    total = workflow.open_count(centre, viewer)
    signature = _signature(selected, [total] + [(e.stored.id, e.level, e.acknowledged, e.deadline, e.status,
                                       e.stored.routing.marking(centre.scheme)) for e in entries])
    if signature == last_signature:
        return (dash.no_update,) * 3
    items = ([_queue_item(e, viewer, selected, centre.scheme) for e in entries]
             or [html.Li(_("No open alerts."), className="muted")])
    count = i18n.number(len(entries)) if total <= len(entries) else _(
        "%(shown)s of %(total)s (most urgent first)") % {"shown": i18n.number(len(entries)),
                                                          "total": i18n.number(total)}
    return items, count, signature


@callback(
    Output(SELECTED_CASE, "data"),
    Input({"type": "select-case", "id": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def select_case(clicks):
    """The alert whose Checklist button was clicked."""
    clicked = _clicked()
    return dash.no_update if clicked is None else clicked["id"]


def _clicked() -> dict | None:
    """The id of the button this callback was fired for by a click, or None: buttons that appeared (the queue
    or the panel drawn again) fire it too, with no clicks, and may come in one request with a real click."""
    for trigger in dash.ctx.triggered or ():
        if trigger.get("value") and trigger["prop_id"].endswith(".n_clicks"):
            return json.loads(trigger["prop_id"].rsplit(".", 1)[0])
    return None


def _step(step, state: CaseState, viewer: Viewer, may_work: bool) -> html.Li:
    done = state.done.get(step.n)
    head = [html.Span(f"{step.n}.", className="step-n"), html.Span(_title(step), className="step-title"),
            html.Span(terms.role(step.role), className="step-role")]
    if done:
        body = html.Div(className="step-done", children=[
            "✓ ", *fill(_("done by %(name)s at %(time)s UTC"), name=_content(done.by), time=done.at[11:16]),
            html.Div(done.note, className="step-note", **UNTRANSLATED) if done.note else None])
    elif state.resolution is not None:
        body = html.Div(_("not done: the alert was resolved"), className="step-closed")
    else:
        body = html.Div(className="step-open", children=[
            html.Span("", className="countdown", **{"data-deadline": step.due_at.isoformat(), "data-what": "due"}),
            dcc.Input(id={"type": "step-note", "n": step.n}, placeholder=_("note (optional)"), className="note-input",
                      maxLength=2000, debounce=False) if may_work else None,
            html.Button(_("Done"), id={"type": "step-done", "n": step.n}, className="step-button")
            if may_work else None,
        ])
    return html.Li(className="step" + (" is-done" if done else ""), **{"data-step": str(step.n)},
                   children=[html.Div(head, className="step-head"), body])


def _resolve_controls(alert_id: str, state: CaseState) -> list:
    """Resolve: at once when every step is done; else a button that opens a modal dialog (``RESOLVE_DIALOG``,
    ``assets/responder.js``) naming the steps still open, whose "Resolve anyway" resolves and "Cancel" (or
    Escape) leaves the alert open."""
    left = state.open_steps
    if not left:
        return [html.Button(_("Resolve"), id={"type": "resolve", "id": alert_id}, className="resolve-button")]
    steps = ", ".join(f"{s.n}. {_title(s)}" for s in left[:5]) + (" …" if len(left) > 5 else "")
    still_open = ngettext("%(n)s checklist step is still open: %(steps)s. Resolving closes the alert; they stay undone.",
                          "%(n)s of %(total)s checklist steps are still open: %(steps)s. Resolving closes the alert; "
                          "they stay undone.", len(left)) % {"n": i18n.number(len(left)),
                                                             "total": i18n.number(len(state.steps)), "steps": steps}
    return [
        html.Button(_("Resolve…"), className="resolve-button resolve-ask", id="resolve-ask",
                    **{"aria-haspopup": "dialog", "aria-controls": RESOLVE_DIALOG}),
        html.Dialog(id=RESOLVE_DIALOG, className="resolve-dialog", **{"aria-labelledby": "resolve-dialog-title",
                                                                      "aria-describedby": "resolve-dialog-text"},
                    children=[
            html.H4(_("Resolve with work still open?"), id="resolve-dialog-title"),
            html.P(still_open, id="resolve-dialog-text"),
            html.Div(className="dialog-actions", children=[
                html.Button(_("Cancel"), className="dialog-cancel", id="resolve-cancel", autoFocus=True),
                html.Button(_("Resolve anyway"), id={"type": "resolve", "id": alert_id},
                            className="resolve-button resolve-confirm"),
            ]),
        ]),
    ]


def _status_line(state: CaseState) -> list:
    if state.resolution is not None:
        by = state.resolution
        return [html.Strong(fill(_("Resolved by %(name)s at %(time)s UTC"), name=_content(by.by), time=by.at[11:19]),
                            className="resolved-tag"),
                *([" · ", *fill(_("note: %(note)s"), note=_content(by.note))] if by.note else [])]
    return [*(fill(_("Acknowledged by %(name)s at %(time)s UTC"), name=_content(state.ack.by),
                   time=state.ack.at[11:19]) if state.ack
              else [_("Not acknowledged yet: acknowledge it to work the checklist.")]),
            " · " + _("escalated to level %(level)s") % {"level": state.escalation_level}
            if state.escalation_level else ""]


def _close_button() -> html.Button:
    return html.Button("×", id=CHECKLIST_CLOSE, className="sheet-close", title=_("Close (Escape)"),
                       **{"aria-label": _("Close the checklist")})


def _panel(alert_id: str | None, viewer: Viewer):
    if not alert_id:
        return html.P(_(NO_SELECTION), className="muted"), None
    centre = callback_context().services.centre
    try:
        stored, state = workflow.case_for(centre, viewer, alert_id)
    except ActionError as exc:
        return html.Div([_close_button(), html.P(exc.localized(), className="muted")], className="sheet-head"), None
    if state is None:
        return html.Div([_close_button(), html.P(_("This alert has no checklist."), className="muted")],
                        className="sheet-head"), None
    signature = _signature(alert_id, state.ack, sorted(state.done.items()), state.resolution, state.escalation,
                           stored.routing.marking(centre.scheme))
    may_work = state.ack is not None and state.resolution is None and viewer.can(Permission.COMPLETE_STEP)
    resolved = state.resolution is not None
    header = [html.Div(className="sheet-head", children=[
                  html.H3([exercise_tag(stored.alert.exercise), " ", _content(headline(stored.alert))], tabIndex=-1,
                          id="checklist-title"),
                  _close_button()]),
              html.P(_status_line(state), className="case-status" + (" resolved" if resolved else ""))]
    if viewer.can(Permission.RESOLVE) and not resolved:
        header += _resolve_controls(alert_id, state)
    steps = html.Ol([_step(s, state, viewer, may_work) for s in state.steps], className="steps", id="steps")
    return html.Div([*header, steps], className="case" + (" is-resolved" if resolved else ""),
                    **{"data-alert-id": alert_id, "data-resolved": "1" if resolved else "0"},
                    **alert_marking_attributes(stored, centre.scheme)), signature


@callback(
    Output(CHECKLIST_PANEL, "children"),
    Output(CHECKLIST_PANEL, "className"),
    Output("panel-sig", "data"),
    Input(SELECTED_CASE, "data"),
    Input("workflow-changed", "data"),
    Input(QUEUE_LIVE, "data"),
    State("panel-sig", "data"),
)
def show_checklist(alert_id, _changed, _live, last_signature):
    """The selected alert's checklist in its sheet (open while an alert is selected); read again on each live
    event, but not re-sent while unchanged (keeps what is being typed)."""
    panel, signature = _panel(alert_id, callback_context().viewer)
    class_name = "checklist-panel" + (" open" if alert_id else "")
    if signature is not None and signature == last_signature:
        return dash.no_update, class_name, dash.no_update  # unchanged: keep what is being typed
    return panel, class_name, signature


@callback(
    Output("workflow-changed", "data"),
    Output("action-message", "children"),
    Input({"type": "ack", "id": ALL}, "n_clicks"),
    Input({"type": "step-done", "n": ALL}, "n_clicks"),
    Input({"type": "resolve", "id": ALL}, "n_clicks"),
    State({"type": "step-note", "n": ALL}, "value"),
    State({"type": "step-note", "n": ALL}, "id"),
    State(SELECTED_CASE, "data"),
    prevent_initial_call=True,
)
def act(_acks, _dones, _resolves, notes, note_ids, selected):
    """Acknowledge, complete a step or resolve: the server checks the role and releasability every time."""
    trigger = _clicked()
    if trigger is None:
        return dash.no_update, dash.no_update  # buttons appeared, nobody clicked
    context = callback_context()
    centre, viewer = context.services.centre, context.viewer
    try:
        if trigger["type"] == "ack":
            alert_id = trigger["id"]
            workflow.acknowledge(centre, viewer, alert_id, via="queue")
            message = fill(_("Acknowledged: %(title)s"), title=_content(centre.index.get(alert_id).alert.title))
        elif trigger["type"] == "resolve":
            alert_id = trigger["id"]
            workflow.resolve(centre, viewer, alert_id, via="queue")
            message = fill(_("Resolved: %(title)s"), title=_content(centre.index.get(alert_id).alert.title))
        else:
            note = dict(zip((i["n"] for i in note_ids or ()), notes or ())).get(trigger["n"], "")
            workflow.complete_step(centre, viewer, selected or "", int(trigger["n"]), note or "", via="queue")
            message = _("Step %(n)s done.") % {"n": int(trigger["n"])}
    except ActionError as exc:
        return dash.no_update, html.Span(exc.localized()[:1].upper() + exc.localized()[1:] + ".", className="refused")
    return {"trigger": trigger, "at": [t["value"] for t in dash.ctx.triggered]}, message
