"""The exercise control page (``/exercises``, exercise control and evaluators): load a MSEL, run play, watch
the injects count down, fire now, skip, and the real-world stop.

Every button runs an ``alerts.actions.exercises`` use case, which checks the caller's rights on the server
(a callback can be POSTed directly: hiding a button protects nothing). The page checks the exercise every
second but renders the status and the inject table only when the exercise changed (``_signature``); the
countdowns tick in the browser (``assets/responder.js``, from each row's ``data-deadline``). The table
shows ``PAGE_SIZE`` injects a page. The final actions (end, skip, real-world stop) ask for confirmation.
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from alerts import i18n
from alerts.actions import exercises
from alerts.actions.errors import ActionError
from alerts.core.exercises import Exercise
from alerts.core.roles import Permission
from alerts.core.time_labels import utc_label
from alerts.i18n import N_, ngettext
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.language import UNTRANSLATED, page_title

TICK_MS = 1_000
#: Injects per page of the table (a large MSEL has hundreds).
PAGE_SIZE = 50
CONTROLS = ("start", "pause", "resume", "end")
#: The control buttons' words, and what the page says once each is done.
CONTROL_LABELS = {"start": N_("Start"), "pause": N_("Pause"), "resume": N_("Resume")}
CONTROL_DONE = {"start": N_("Start: done."), "pause": N_("Pause: done."), "resume": N_("Resume: done.")}
#: An exercise's and an inject's state in words (``alerts.core.exercises``); an unknown state as itself.
EXERCISE_STATES = {"planned": N_("planned"), "running": N_("running"), "paused": N_("paused"), "ended": N_("ended")}
INJECT_STATES = {"pending": N_("pending"), "standby": N_("standby"), "fired": N_("fired"), "skipped": N_("skipped"),
                 "expired": N_("expired")}


def exercise_state(state: str) -> str:
    """An exercise's state (``running``) in the current language."""
    return _(EXERCISE_STATES[state]) if state in EXERCISE_STATES else state


def inject_state(state: str) -> str:
    """An inject's state (``fired``) in the current language."""
    return _(INJECT_STATES[state]) if state in INJECT_STATES else state


def layout(**_query) -> html.Div:
    """The control page for exercise control and evaluators; others get a refusal naming who may."""
    viewer = callback_context().viewer
    if not exercises.controls(viewer):
        return html.Div(_("Only exercise control and evaluators may open exercise control."),
                        className="page-body denied")
    control = viewer.can(Permission.CONTROL_EXERCISES)
    # the file travels base64-encoded (4/3 of its size) in one callback request, under CRISIS_MAX_REQUEST_BYTES
    page_limit = callback_context().services.settings.max_request_bytes * 7 // 10
    sections = [
        html.Label([_("Exercise"), dcc.Dropdown(id="exercise-select", placeholder=_("choose an exercise"),
                                                clearable=False)]),
        html.Div(id="exercise-status", className="exercise-status", role="status"),
    ]
    if control:
        sections.append(html.Div(className="exercise-controls", children=[
            *(html.Button(_(CONTROL_LABELS[action]), id={"type": "exercise-control", "action": action},
                          className="primary" if action == "start" else "") for action in CONTROLS[:3]),
            dcc.ConfirmDialogProvider(html.Button(_("End (ENDEX)"), id="exercise-end-button"), id="exercise-end",
                                      message=_("End the exercise now? Injects not yet fired will not fire.")),
        ]))
    sections += [html.Div(id="exercise-message", className="action-message", role="status"),
                 html.Div(className="inject-pages", children=[
                     html.Label([_("Injects page"), " ", dcc.Input(id="inject-page", type="number", min=1, step=1,
                                                                   value=1, debounce=True)]),
                     html.Span(id="inject-pages", className="muted")]),
                 html.Div(id="inject-table", className="inject-table-wrap"), dcc.Store(id="inject-table-sig")]
    if control:
        sections += [
            html.Section(className="msel-load", children=[
                html.H3(_("Load a MSEL")),
                html.P(_("CSV or XLSX with the columns listed in the README; every row is checked first. Up to "
                         "%(kb)s KB here (a request's limit); larger MSELs and payload files: "
                         "crisisdash exercise load, or POST /api/v1/exercises.")
                       % {"kb": i18n.number(page_limit // 1024)},
                       className="muted"),
                dcc.Upload(id="msel-upload", children=html.Div([_("Drop a MSEL here or"), " ",
                                                                html.A(_("choose a file"))]),
                           className="upload", max_size=page_limit),
                html.Label([_("Name"), dcc.Input(id="msel-name", type="text", maxLength=200)]),
                html.Label([_("Speed"), dcc.Input(id="msel-speed", type="number", min=0.01, max=3600, value=1)]),
                html.Button(_("Load"), id="msel-load", className="primary"),
                html.Div(id="msel-message", className="action-message", role="status"),
            ]),
            html.Section(className="real-world-stop", children=[
                html.H3(_("Real-world stop")),
                html.P(_("Ends every exercise at once and announces it on every page."), className="muted"),
                html.Label([_("Why"), dcc.Input(id="stop-reason", type="text", maxLength=300)]),
                dcc.ConfirmDialogProvider(html.Button(_("STOP ALL EXERCISES"), className="danger"), id="stop-all",
                                          message=_("Stop every exercise now for a real-world event?")),
                html.Div(id="stop-message", className="action-message", role="status"),
            ]),
        ]
    return html.Div(className="page-body exercises-page", children=[
        html.H2(_("Exercise control")), *sections, dcc.Interval(id="exercise-tick", interval=TICK_MS),
        dcc.Store(id="exercise-changed")])


dash.register_page(__name__, path="/exercises", title=page_title(N_("Exercise control")), name=N_("Exercises"),
                   layout=layout, permission=Permission.EVALUATE_EXERCISES)


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _countdown(ex: Exercise, due: datetime | None, now: datetime) -> html.Span | str:
    """Time left until the inject is due: ticking in the browser while running, frozen while paused."""
    if due is None:
        return ""
    if ex.paused_at is not None:
        return html.Span(_("%(left)s (paused)") % {"left": _clock((due - now).total_seconds())}, className="paused")
    return html.Span(_clock((due - now).total_seconds()), className="countdown",
                     **{"data-deadline": due.isoformat(), "data-what": ""})


def _inject_rows(ex: Exercise, now: datetime, control: bool, page: int = 1) -> html.Table:
    header = ["#", _("Offset"), _("Due (UTC)"), _("In"), _("State"), _("To"), _("Title"), _("Expected action"), ""]
    rows = []
    for inject in ex.injects[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]:
        state = ex.inject_state(inject.number)
        due = ex.due_at(inject.number, now)
        buttons = []
        if control and state.value in ("pending", "standby") and ex.state.value in ("running", "paused"):
            buttons.append(html.Button(_("Fire now"), id={"type": "inject-fire", "n": inject.number}))
        if control and state.value in ("pending", "standby"):
            buttons.append(dcc.ConfirmDialogProvider(
                html.Button(_("Skip")), id={"type": "inject-skip", "n": inject.number},
                message=_("Skip inject %(n)s? It will not fire.") % {"n": inject.number}))
        shown_due = _("paused") if due and ex.paused_at is not None else (utc_label(due, date=False, seconds=True) if due else "")
        rows.append(html.Tr(className=f"inject inject-{state.value}", **{"data-inject": str(inject.number)}, children=[
            html.Td(str(inject.number)), html.Td(_clock(inject.offset.total_seconds())),
            html.Td(shown_due or (utc_label(ex.fired[inject.number], date=False, seconds=True) if inject.number in ex.fired else "")),
            html.Td(_countdown(ex, due, now)), html.Td(inject_state(state.value)),
            html.Td(", ".join(inject.to), **UNTRANSLATED), html.Td(inject.title, **UNTRANSLATED),
            html.Td([html.Span(inject.expected_action, **UNTRANSLATED) if inject.expected_action else None,
                     " · " if inject.expected_action and inject.backup_for else None,
                     _("backup for %(n)s") % {"n": inject.backup_for} if inject.backup_for else None]),
            html.Td(buttons)]))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
                      className="inject-table")


def _signature(ex: Exercise, control: bool, page: int) -> str:
    """What the rendered status and table depend on (the MSEL itself never changes once loaded)."""
    parts = ex.model_dump(mode="json", include={"id", "state", "startex", "endex", "paused_at", "paused_for",
                                                "speed", "fired", "skipped", "triggered", "end_reason"})
    return hashlib.sha1(json.dumps([parts, control, page], sort_keys=True).encode()).hexdigest()


@callback(Output("exercise-select", "options"), Output("exercise-select", "value"),
          Input("exercise-changed", "data"), State("exercise-select", "value"))
def list_exercises(changed, chosen):
    """The exercises, newest first; keeps the choice, else the one just loaded or the newest."""
    context = callback_context()
    if not exercises.controls(context.viewer):  # the training audience never sees the MSEL (posted directly too)
        return [], None
    found = exercises.exercises(context.services.centre, context.viewer)
    options = [{"label": _("%(name)s (%(state)s, %(id)s)") % {"name": e.name, "state": exercise_state(e.state.value),
                                                              "id": e.id}, "value": e.id} for e in found]
    ids = [e.id for e in found]
    pick = changed if changed in ids else (chosen if chosen in ids else (ids[0] if ids else None))
    return options, pick


@callback(Output("exercise-status", "children"), Output("inject-table", "children"),
          Output("inject-pages", "children"), Output("inject-table-sig", "data"),
          Input("exercise-select", "value"), Input("exercise-tick", "n_intervals"), Input("exercise-changed", "data"),
          Input("inject-page", "value"), State("inject-table-sig", "data"))
def show(exercise_id, _tick, _changed, page, last_signature):
    """The chosen exercise's state and one page of its injects with their countdowns; nothing is sent while
    the exercise has not changed."""
    if not exercise_id:
        return _("No exercise loaded yet."), None, "", None
    context = callback_context()
    centre = context.services.centre
    try:
        exercises.require_controls(context.viewer)  # the training audience never sees the MSEL
        ex = exercises.exercise(centre, context.viewer, exercise_id)
    except ActionError as exc:
        return exc.localized(), None, "", None
    pages = max(1, -(-len(ex.injects) // PAGE_SIZE))
    page = min(max(1, int(page or 1)), pages)
    control = context.viewer.can(Permission.CONTROL_EXERCISES)
    signature = _signature(ex, control, page)
    if signature == last_signature:
        return (dash.no_update,) * 4
    now = centre.clock()
    started = f" · STARTEX {utc_label(ex.startex, seconds=True)}" if ex.startex else ""
    ended = f" · ENDEX {utc_label(ex.endex, date=False, seconds=True)}" if ex.endex else ""
    fired = len(ex.fired)
    fired_text = ngettext("%(fired)s of %(n)s inject fired", "%(fired)s of %(n)s injects fired", len(ex.injects)) % {
        "fired": i18n.number(fired), "n": i18n.number(len(ex.injects))}
    status = html.Span([html.B(ex.name, **UNTRANSLATED), f" · {exercise_state(ex.state.value)}{started}{ended} · ",
                        fired_text, " · ", _("nations %(nations)s") % {"nations": ", ".join(ex.nations)},
                        *([" · ", html.Span(ex.end_reason, **UNTRANSLATED)] if ex.end_reason else [])],
                       **{"data-state": ex.state.value})
    pages_text = _("%(page)s of %(pages)s") % {"page": i18n.number(page), "pages": i18n.number(pages)}
    return status, _inject_rows(ex, now, control, page), pages_text, signature


def _act(do, *args) -> tuple[str, object]:
    context = callback_context()
    try:
        done = do(context.services.centre, context.viewer, *args)
    except ActionError as exc:
        return exc.localized(), dash.no_update
    return "", getattr(done, "id", None) or dash.no_update


@callback(Output("exercise-message", "children"), Output("exercise-changed", "data", allow_duplicate=True),
          Input({"type": "exercise-control", "action": ALL}, "n_clicks"), Input("exercise-end", "submit_n_clicks"),
          Input({"type": "inject-fire", "n": ALL}, "n_clicks"), Input({"type": "inject-skip", "n": ALL}, "submit_n_clicks"),
          State("exercise-select", "value"), prevent_initial_call=True)
def control(_controls, _end, _fires, _skips, exercise_id):
    """Start, pause, resume, end; fire an inject now or skip it (the use cases check the role)."""
    pressed = ctx.triggered_id
    if not exercise_id or pressed is None or not any(t["value"] for t in ctx.triggered):
        return dash.no_update, dash.no_update
    if pressed == "exercise-end":
        message, changed = _act(exercises.end, exercise_id)
        return message or _("Ended (ENDEX)."), changed
    if pressed["type"] == "exercise-control":
        message, changed = _act(getattr(exercises, pressed["action"]), exercise_id)
        done = CONTROL_DONE.get(pressed["action"])
        return message or (_(done) if done else f"{pressed['action'].capitalize()}: done."), changed
    do = exercises.fire_now if pressed["type"] == "inject-fire" else exercises.skip
    message, changed = _act(do, exercise_id, pressed["n"])
    done = _("Inject %(n)s fired.") if pressed["type"] == "inject-fire" else _("Inject %(n)s skipped.")
    return message or done % {"n": pressed["n"]}, changed


@callback(Output("msel-message", "children"), Output("exercise-changed", "data", allow_duplicate=True),
          Input("msel-load", "n_clicks"), State("msel-upload", "contents"), State("msel-name", "value"),
          State("msel-speed", "value"), prevent_initial_call=True)
def load(_clicks, contents, name, speed):
    """Load the uploaded MSEL as a planned exercise; every problem listed by row and column."""
    if not contents:
        return _("Choose a MSEL file first."), dash.no_update
    data = base64.b64decode(contents.split(",", 1)[1])
    context = callback_context()
    try:
        ex = exercises.load(context.services.centre, context.viewer, data, name or "", speed=float(speed or 1))
    except ActionError as exc:
        problems = exc.extra.get("problems") or []
        return html.Div([html.P(exc.localized().split("\n")[0]),
                         html.Ul([html.Li(_problem(p)) for p in problems[:50]])], className="msel-problems"), \
            dash.no_update
    return ngettext("Loaded %(name)s: %(n)s inject for %(nations)s (%(id)s).",
                    "Loaded %(name)s: %(n)s injects for %(nations)s (%(id)s).", len(ex.injects)) % {
        "name": ex.name, "n": len(ex.injects), "nations": ", ".join(ex.nations), "id": ex.id}, ex.id


def _problem(problem: dict) -> list:
    """One problem of a MSEL: where (row, column; in words) and what (the loader's message, as it is)."""
    where = (_("row %(row)s, column %(column)s: ") % problem if problem["row"] and problem["column"] else
             _("row %(row)s, ") % problem if problem["row"] else
             _("column %(column)s: ") % problem if problem["column"] else "")
    return [where, problem["message"]]


@callback(Output("stop-message", "children"), Output("exercise-changed", "data", allow_duplicate=True),
          Input("stop-all", "submit_n_clicks"), State("stop-reason", "value"), prevent_initial_call=True)
def stop_all(_clicks, reason):
    """The real-world stop."""
    context = callback_context()
    try:
        stopped = exercises.stop_all(context.services.centre, context.viewer, reason or "")
    except ActionError as exc:
        return exc.localized(), dash.no_update
    return (ngettext("Stopped %(n)s exercise.", "Stopped %(n)s exercises.", len(stopped)) % {"n": len(stopped)},
            stopped[0].id if stopped else dash.no_update)
