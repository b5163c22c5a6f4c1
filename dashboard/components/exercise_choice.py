"""The exercise picker of the evaluation and AAR pages: the options and the kept choice."""
from __future__ import annotations

from alerts.actions import exercises
from dashboard.auth.context import callback_context


def exercise_choice(chosen: str | None) -> tuple[list[dict], str | None]:
    """``(options, value)`` for a dropdown of the exercises the caller may evaluate, newest first: the
    choice ``chosen`` kept while it exists, else the newest; nothing for a caller without the right."""
    context = callback_context()
    if not exercises.controls(context.viewer):
        return [], None
    found = exercises.exercises(context.services.centre, context.viewer)
    ids = [e.id for e in found]
    return ([{"label": f"{e.name} ({e.state.value}, {e.id})", "value": e.id} for e in found],
            chosen if chosen in ids else (ids[0] if ids else None))
