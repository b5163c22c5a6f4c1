"""The EXERCISE band of every page: which exercises are in play for the viewer, and real-world stops.

Shown under the classification banner, never instead of it, while an exercise the viewer's nation plays
in is running or paused ("EXERCISE <NAME>"), and for ``alerts.actions.exercises.STOP_NOTICE`` after a
real-world stop (its reason) as a separate red notice beside it. Rendered with the page, then read again by
one small callback whenever the page's live stream says some band may have changed (``event: band``,
``alerts.actions.band``; the scripts set ``EXERCISE_BAND_LIVE``): pushed, never polled; a stop reaches every
open page within about a second. The band is sent again only when what it says changed
(``EXERCISE_BAND_SIG``).

Language (``alerts.i18n``): an exercise in play reads "EXERCISE <NAME>" (" - PAUSED") in the request's
language, the name as it is; a real-world stop's notice is worded in the request's language from its parts
(``alerts.actions.band.notices``: ``names``, ``at``, ``reason``), the names and the reason as given
(content, ``UNTRANSLATED``).
"""
from __future__ import annotations

import json

import dash
from dash import Input, Output, State, dcc, html

from alerts.actions.band import notices as notices_for
from alerts.actions.centre import Centre
from alerts.core.viewer import Viewer
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context
from dashboard.components.alerts import fill
from dashboard.components.ids import (
    EXERCISE_BAND,
    EXERCISE_BAND_LIVE,
    EXERCISE_BAND_SIG,
)
from dashboard.components.language import UNTRANSLATED


def _content(notices: list[dict]) -> tuple[list, str]:
    """The band's children and class: exercises in play in the striped EXERCISE band (``exercise-play``),
    real-world stops in a separate red notice (``exercise-stop``), so play started after a stop is never
    shown as stopped nor merged into the stop's text. The container's ``stopped`` class only marks that a
    stop notice is there."""
    def spans(kinds: tuple[str, ...]) -> list:
        return [html.Span(_text(n), className=f"exercise-notice exercise-{n['kind']}",
                          **{"data-exercise-id": n["id"]}) for n in notices if n["kind"] in kinds]

    play, stops = spans(("running", "paused")), spans(("stopped",))
    children = ([html.Div(play, className="exercise-play")] if play else []) + (
        [html.Div(stops, className="exercise-stop")] if stops else [])
    return children, "exercise-band" + (" stopped" if stops else "") + ("" if notices else " hidden")


def _text(notice: dict) -> str | list:
    """What a notice says in the request's language: an exercise in play from its name and state; a stop from
    its parts, one sentence with the names and the reason in ``UNTRANSLATED`` spans."""
    if notice["kind"] == "running":
        return _("EXERCISE %(name)s") % {"name": notice["name"]}
    if notice["kind"] == "paused":
        return _("EXERCISE %(name)s - PAUSED") % {"name": notice["name"]}
    reason = html.Span(notice["reason"], **UNTRANSLATED)
    if notice["names"]:
        return fill(_("EXERCISE %(names)s STOPPED %(at)s UTC - REAL-WORLD STOP: %(reason)s"),
                    names=html.Span(", ".join(notice["names"]), **UNTRANSLATED), at=notice["at"], reason=reason)
    return fill(_("EXERCISE PLAY STOPPED %(at)s UTC - REAL-WORLD STOP: %(reason)s"), at=notice["at"], reason=reason)


def band(centre: Centre | None, viewer: Viewer) -> html.Div:
    """The band as the page is first drawn (empty and hidden outside a request), and the store the live
    stream's ``band`` events set."""
    notices = notices_for(centre, viewer) if centre is not None and viewer.role != "none" else []
    children, class_name = _content(notices)
    return html.Div([
        html.Div(children, id=EXERCISE_BAND, className=class_name, role="status", **{"aria-live": "assertive"}),
        dcc.Store(id=EXERCISE_BAND_LIVE),
        dcc.Store(id=EXERCISE_BAND_SIG, data=_signature(notices)),
    ])


def _signature(notices: list[dict]) -> str:
    return json.dumps(notices, sort_keys=True)


@dash.callback(Output(EXERCISE_BAND, "children"), Output(EXERCISE_BAND, "className"),
               Output(EXERCISE_BAND_SIG, "data"), Input(EXERCISE_BAND_LIVE, "data"),
               State(EXERCISE_BAND_SIG, "data"), prevent_initial_call=True)
def refresh(_tick, shown):
    """Re-read the notices for the signed-in viewer; nothing is sent while they are what the page shows."""
    context = callback_context()
    notices = notices_for(context.services.centre, context.viewer)
    if _signature(notices) == shown:
        return dash.no_update, dash.no_update, dash.no_update
    return (*_content(notices), _signature(notices))
