"""The EXERCISE band every page shows: what it says to one viewer (``notices``), and a digest of what it could
say to anyone (``band_signature``), which changes exactly when some viewer's band would.

The live feed of each server process computes ``band_signature`` once a second (``dashboard.live.feed``) and
pushes a ``band`` event to every open page when it changes; the page then reads its own ``notices`` again.
No page asks on a timer. The signature changes when an exercise starts, pauses, resumes or ends, is renamed,
or a real-world stop's notice appears or, ``STOP_NOTICE`` later, expires (the clock is the centre's).
"""
from __future__ import annotations

import hashlib
import json

from alerts.actions.centre import Centre
from alerts.actions.exercises import LIVE_STATES, REAL_WORLD_STOP, STOP_NOTICE, exercises, store_of
from alerts.core.exercises import Exercise, ExerciseState
from alerts.core.viewer import Viewer


def notices(centre: Centre, viewer: Viewer) -> list[dict]:
    """What the EXERCISE band of every page shows ``viewer``: ``{"kind": "running"|"paused"|"stopped", "id",
    "name", "text"}``: one for each exercise in play that it may know of, and one for each real-world stop
    of the last ``STOP_NOTICE`` (its time and reason, once however many exercises it ended). A stop is
    announced to **every** viewer, also of nations that do not play (a real-world event concerns all); the
    exercises' names only to those who may know of them (``id``: their ids, space-separated). Empty: no band.
    ``text`` is in English; a stop also gives its parts for a page to word it: ``at`` (ENDEX, ``HH:MM`` UTC),
    ``reason`` (as given, without ``REAL_WORLD_STOP``), ``names`` (those the viewer may know of; [] = play)."""
    now, shown = centre.clock(), []
    known = {e.id for e in exercises(centre, viewer)}
    every = store_of(centre).all()
    for ex in every:
        if ex.id in known and ex.state in LIVE_STATES:
            paused = " - PAUSED" if ex.state is ExerciseState.PAUSED else ""
            shown.append({"kind": ex.state.value, "id": ex.id, "name": ex.name, "text": f"EXERCISE {ex.name}{paused}"})
    stops: dict[tuple[str, str], list[Exercise]] = {}
    for ex in every:
        if (ex.end_reason or "").startswith(REAL_WORLD_STOP) and ex.endex and now - ex.endex <= STOP_NOTICE:
            stops.setdefault((ex.end_reason, f"{ex.endex:%H:%M}"), []).append(ex)
    for (reason, at), group in stops.items():
        named = [e for e in group if e.id in known]
        what = f"EXERCISE {', '.join(e.name for e in named)}" if named else "EXERCISE PLAY"
        shown.append({"kind": "stopped", "id": " ".join(e.id for e in named), "name": ", ".join(e.name for e in named),
                      "text": f"{what} STOPPED {at} UTC - {reason}", "at": at,
                      "reason": reason[len(REAL_WORLD_STOP):].removeprefix(": "), "names": [e.name for e in named]})
    return shown


def band_signature(centre: Centre) -> str:
    """A digest (hex) of every band's possible content now, whoever views it: each exercise in play (id,
    name, state) and each real-world stop still announced (id, name, reason, ENDEX). Equal digests: no band
    on any page needs to change."""
    now, parts = centre.clock(), []
    for ex in sorted(store_of(centre).all(), key=lambda e: e.id):
        if ex.state in LIVE_STATES:
            parts.append(["play", ex.id, ex.name, ex.state.value])
        elif (ex.end_reason or "").startswith(REAL_WORLD_STOP) and ex.endex and now - ex.endex <= STOP_NOTICE:
            parts.append(["stop", ex.id, ex.name, ex.end_reason, ex.endex.isoformat()])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
