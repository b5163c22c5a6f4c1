"""The evaluation page (``/evaluation``, exercise control and evaluators): each inject's expected action
scored per nation from what the players did, and the evaluators' observations (HSEEP ratings).

The table is ``alerts.actions.evaluation.evaluation``; it refreshes every few seconds while play runs.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from alerts.actions import evaluation
from alerts.actions.errors import ActionError
from alerts.core.roles import Permission
from alerts.i18n import N_
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.exercise_choice import exercise_choice
from dashboard.components.language import UNTRANSLATED, page_title

TICK_MS = 5_000
OUTCOME_TEXT = {"met": N_("met"), "missed": N_("MISSED"), "pending": N_("pending"), "ended": N_("ended by ENDEX")}
#: An inject's state in words (``alerts.core.exercises.InjectState``; as the exercise control page says them).
INJECT_STATES = {"pending": N_("pending"), "standby": N_("standby"), "fired": N_("fired"), "skipped": N_("skipped"),
                 "expired": N_("expired")}
#: The HSEEP ratings an observation may carry (the letter is the code, kept in every language).
RATING_OPTIONS = [(N_("P: performed without challenges"), "P"), (N_("S: performed with some challenges"), "S"),
                  (N_("M: performed with major challenges"), "M"), (N_("U: unable to be performed"), "U")]


def layout(**_query) -> html.Div:
    """The evaluation page; others get a refusal naming who may."""
    if not callback_context().viewer.can(Permission.EVALUATE_EXERCISES):
        return html.Div(_("Only exercise control and evaluators may read the evaluation."),
                        className="page-body denied")
    return html.Div(className="page-body evaluation-page", children=[
        html.H2(_("Evaluation")),
        html.Label([_("Exercise"), dcc.Dropdown(id="evaluation-select", placeholder=_("choose an exercise"),
                                                clearable=False)]),
        html.Div(id="evaluation-table", className="inject-table-wrap"),
        html.Section(className="observation-form", children=[
            html.H3(_("Observation")),
            html.Label([_("Inject"), dcc.Input(id="observation-inject", type="number", min=1)]),
            html.Label([_("Rating"), dcc.Dropdown(id="observation-rating", options=[
                {"label": _(label), "value": value} for label, value in RATING_OPTIONS])]),
            html.Label([_("What you saw"), dcc.Textarea(id="observation-text", maxLength=evaluation.MAX_OBSERVATION,
                                                        className="reason")]),
            html.Button(_("Record"), id="observation-submit", className="primary"),
            html.Div(id="observation-message", className="action-message", role="status"),
        ]),
        html.Div(id="observation-list"),
        dcc.Interval(id="evaluation-tick", interval=TICK_MS), dcc.Store(id="observation-added"),
    ])


dash.register_page(__name__, path="/evaluation", title=page_title(N_("Evaluation")), name=N_("Evaluation"),
                   layout=layout, permission=Permission.EVALUATE_EXERCISES)


@callback(Output("evaluation-select", "options"), Output("evaluation-select", "value"),
          Input("evaluation-tick", "n_intervals"), State("evaluation-select", "value"))
def list_exercises(_tick, chosen):
    """The exercises, newest first (keeps the choice)."""
    return exercise_choice(chosen)


def _word(table: dict[str, str], code: str) -> str:
    return _(table[code]) if code in table else code


def _cell(score: dict | None) -> html.Td:
    if score is None:
        return html.Td("", className="outcome-none")
    outcome = _(OUTCOME_TEXT[score["outcome"]])
    if score["taken_s"] is not None:
        outcome = _("%(outcome)s in %(taken)s") % {
            "outcome": outcome, "taken": f"{int(score['taken_s'] // 60)}:{int(score['taken_s'] % 60):02d}"}
    # each clause is the expected action's own text (content); its outcome in words
    detail = "; ".join(f"{c['clause']}: {_word(OUTCOME_TEXT, c['outcome'])}" for c in score["clauses"])
    return html.Td(outcome, title=detail, className=f"outcome-{score['outcome']}")


@callback(Output("evaluation-table", "children"), Output("observation-list", "children"),
          Input("evaluation-select", "value"), Input("evaluation-tick", "n_intervals"),
          Input("observation-added", "data"))
def show(exercise_id, _tick, _added):
    """Per inject and nation: met / MISSED / pending with the time taken; then the observations."""
    if not exercise_id:
        return html.P(_("No exercise yet."), className="muted"), None
    context = callback_context()
    try:
        table = evaluation.evaluation(context.services.centre, context.viewer, exercise_id)
    except ActionError as exc:
        return html.P(exc.localized(), className="denied"), None
    nations = list(dict.fromkeys(n for row in table["injects"] for n in row["to"]))
    header = html.Tr([html.Th(h) for h in ("#", _("Inject"), _("State"), _("Expected action"))] +
                     [html.Th(n, **UNTRANSLATED) for n in nations])
    rows = [html.Tr(**{"data-inject": str(row["inject"])}, children=[
        html.Td(str(row["inject"])), html.Td(row["title"], **UNTRANSLATED), html.Td(_word(INJECT_STATES, row["state"])),
        html.Td(row["expected_action"] or "", **UNTRANSLATED),
        *(_cell(row["nations"].get(n)) if n in row["to"] else html.Td("—", className="outcome-none")
          for n in nations)]) for row in table["injects"]]
    observations = [html.Li([f"{o['at'][11:16]} UTC · ",
                             html.Span(f"{o['by']} ({o['nation'] or '-'})", **UNTRANSLATED),
                             " · " + _("inject %(n)s") % {"n": o["inject"]} if o["inject"] else "",
                             " · " if o["rating"] else "",
                             html.Span(o["rating"], **UNTRANSLATED) if o["rating"] else "",  # an HSEEP letter
                             ": ", html.Span(o["text"], **UNTRANSLATED)])
                    for o in table["observations"]]
    return (html.Table([html.Thead(header), html.Tbody(rows)], className="inject-table evaluation-table"),
            html.Div([html.H3(_("Observations")), html.Ul(observations) if observations else
                      html.P(_("None yet."), className="muted")]))


@callback(Output("observation-message", "children"), Output("observation-added", "data"),
          Input("observation-submit", "n_clicks"), State("evaluation-select", "value"),
          State("observation-inject", "value"), State("observation-rating", "value"),
          State("observation-text", "value"), prevent_initial_call=True)
def observe(clicks, exercise_id, inject, rating, text):
    """Record an observation (the use case checks the role and the values)."""
    if not exercise_id:
        return _("Choose an exercise first."), dash.no_update
    context = callback_context()
    try:
        evaluation.observe(context.services.centre, context.viewer, exercise_id, int(inject) if inject else None,
                           text or "", rating or None)
    except ActionError as exc:
        return exc.localized(), dash.no_update
    return _("Recorded."), clicks
