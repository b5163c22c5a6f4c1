"""The exercise picker of the evaluation and AAR pages: the options and the kept choice.

An option reads ``<name> (<state>, <id>)``: the state in the request's language (``alerts.i18n``), the
exercise's name and id as they are (content).
"""
from __future__ import annotations

from alerts.actions import exercises
from alerts.i18n import N_
from alerts.i18n import gettext as _
from dashboard.auth.context import callback_context

#: An exercise's state (``alerts.core.exercises.ExerciseState``) in words, translated where shown.
STATES = {"planned": N_("planned"), "running": N_("running"), "paused": N_("paused"), "ended": N_("ended")}


def _state(code: str) -> str:
    return _(STATES[code]) if code in STATES else code


def exercise_choice(chosen: str | None) -> tuple[list[dict], str | None]:
    """``(options, value)`` for a dropdown of the exercises the caller may evaluate, newest first: the
    choice ``chosen`` kept while it exists, else the newest; nothing for a caller without the right."""
    context = callback_context()
    if not exercises.controls(context.viewer):
        return [], None
    found = exercises.exercises(context.services.centre, context.viewer)
    ids = [e.id for e in found]
    return ([{"label": _("%(name)s (%(state)s, %(id)s)") % {"name": e.name, "state": _state(e.state.value), "id": e.id},
              "value": e.id} for e in found],
            chosen if chosen in ids else (ids[0] if ids else None))
