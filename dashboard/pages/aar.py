"""The after-action review page (``/aar``, exercise control and evaluators): an exercise's AAR as it stands,
the HSEEP rating of each objective and the improvement plan, with links to the Markdown and HTML exports.

The report is ``alerts.actions.aar.exercise_report`` laid out by ``alerts.formats.aar.blocks`` and rendered
as Dash text nodes (headings, paragraphs, tables: shown as text, never parsed as Markdown or HTML); ratings
and plan items go through ``alerts.actions.aar.rate`` / ``plan`` (audited).
"""
from __future__ import annotations

from urllib.parse import quote

import dash
from dash import Input, Output, State, callback, dcc, html
from pydantic import ValidationError

from alerts.actions import aar
from alerts.actions.errors import ActionError
from alerts.core.aar import RATING_MEANING, Improvement
from alerts.core.roles import Permission
from alerts.formats import aar as aar_format
from alerts.i18n import N_
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.exercise_choice import exercise_choice
from dashboard.components.language import UNTRANSLATED, page_title


def layout(**_query) -> html.Div:
    """The page; others get a refusal naming who may."""
    if not callback_context().viewer.can(Permission.EVALUATE_EXERCISES):
        return html.Div(_("Only exercise control and evaluators may read the after-action review."),
                        className="page-body denied")
    return html.Div(className="page-body aar-page", children=[
        html.H2(_("After-action review")),
        html.Label([_("Exercise"), dcc.Dropdown(id="aar-select", placeholder=_("choose an exercise"),
                                                clearable=False)]),
        html.Div(id="aar-links", className="aar-links"),
        html.Section(className="observation-form", children=[
            html.H3(_("Rate an objective (HSEEP)")),
            html.Label([_("Objective number"), dcc.Input(id="aar-objective", type="number", min=1)]),
            html.Label([_("Rating"), dcc.Dropdown(id="aar-rating", options=[
                {"label": f"{k}: {aar_format.rating_meaning(k)}", "value": k} for k in RATING_MEANING])]),
            html.Label([_("Note"), dcc.Input(id="aar-note", type="text", maxLength=2000)]),
            html.Button(_("Rate"), id="aar-rate", className="primary"),
            html.H3(_("Improvement plan item")),
            html.Label([_("Area for improvement"), dcc.Input(id="aar-area", type="text", maxLength=500)]),
            html.Label([_("Corrective action"), dcc.Input(id="aar-action", type="text", maxLength=2000)]),
            html.Label([_("Owner"), dcc.Input(id="aar-owner", type="text", maxLength=200)]),
            html.Label([_("Due (YYYY-MM-DD)"), dcc.Input(id="aar-due", type="text")]),
            html.Button(_("Add to the plan"), id="aar-plan", className="primary"),
            html.Div(id="aar-message", className="action-message", role="status"),
        ]),
        html.Div(id="aar-report", className="aar-report"),
        dcc.Store(id="aar-changed"),
    ])


def report_view(report: dict) -> list:
    """The report's blocks (``alerts.formats.aar.blocks``) as headings, paragraphs and tables of text: the
    marking and the cells of content (names, titles, texts, nations) marked untranslated."""
    shown: list = []
    for block in aar_format.blocks(report):
        if block[0] == "table":
            header, rows, words = block[1], block[2], block[3]
            body = [html.Tr([html.Td(str(c)) if i in words else html.Td(str(c), **UNTRANSLATED)
                             for i, c in enumerate(row)]) for row in rows] or [
                html.Tr([html.Td("-") for _h in header])]
            shown.append(html.Table([html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)]))
        elif block[0] == "p" and block[1] == report["marking"]:
            shown.append(html.P(str(block[1]), **UNTRANSLATED))
        else:
            shown.append({"h1": html.H3, "h2": html.H4, "p": html.P}[block[0]](str(block[1])))
    return shown


dash.register_page(__name__, path="/aar", title=page_title(N_("After-action review")), name="AAR",
                   layout=layout, permission=Permission.EVALUATE_EXERCISES)


@callback(Output("aar-select", "options"), Output("aar-select", "value"), Input("aar-changed", "data"),
          State("aar-select", "value"))
def list_exercises(_changed, chosen):
    """The exercises, newest first (keeps the choice)."""
    return exercise_choice(chosen)


@callback(Output("aar-report", "children"), Output("aar-links", "children"),
          Input("aar-select", "value"), Input("aar-changed", "data"))
def show(exercise_id, _changed):
    """The report as it stands, and its exports."""
    if not exercise_id:
        return _("No exercise yet."), None
    context = callback_context()
    try:
        report = aar.exercise_report(context.services.centre, context.viewer, exercise_id)
    except ActionError as exc:
        return exc.localized(), None
    base = f"/api/v1/exercises/{quote(exercise_id, safe='')}/aar"
    links = [html.A("Markdown", href=f"{base}?format=md", id="aar-md", **UNTRANSLATED), " · ",
             html.A("HTML", href=f"{base}?format=html", id="aar-html", target="_blank", **UNTRANSLATED), " · ",
             html.A("JSON", href=f"{base}?format=json", **UNTRANSLATED)]
    return report_view(report), links


@callback(Output("aar-message", "children"), Output("aar-changed", "data"),
          Input("aar-rate", "n_clicks"), Input("aar-plan", "n_clicks"), State("aar-select", "value"),
          State("aar-objective", "value"), State("aar-rating", "value"), State("aar-note", "value"),
          State("aar-area", "value"), State("aar-action", "value"), State("aar-owner", "value"),
          State("aar-due", "value"), prevent_initial_call=True)
def enter(rate_clicks, plan_clicks, exercise_id, objective, rating, note, area, action, owner, due):
    """Rate an objective or add a plan item (the use cases check the role and the values)."""
    if not exercise_id:
        return _("Choose an exercise first."), dash.no_update
    context = callback_context()
    try:
        if dash.ctx.triggered_id == "aar-rate":
            if not objective or not rating:
                return _("Give the objective's number and a rating."), dash.no_update
            aar.rate(context.services.centre, context.viewer, exercise_id, int(objective), rating, note or "")
            return (_("Objective %(n)s rated %(rating)s.") % {"n": int(objective), "rating": rating},
                    (rate_clicks or 0) + (plan_clicks or 0))
        item = Improvement(area=area or "", action=action or "", owner=owner or "", due=due or "")
        aar.plan(context.services.centre, context.viewer, exercise_id, item)
    except ValidationError as exc:
        # the field's name and pydantic's reason are English (pydantic has no catalogue of ours)
        return _("The plan item needs %(field)s: %(reason)s") % {"field": exc.errors()[0]["loc"][0],
                                                                  "reason": exc.errors()[0]["msg"]}, dash.no_update
    except ActionError as exc:
        return exc.localized(), dash.no_update
    return _("Added to the improvement plan."), (rate_clicks or 0) + (plan_clicks or 0)
