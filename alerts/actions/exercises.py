"""Exercises as use cases: load a MSEL, control play, fire and skip injects, the real-world stop, the tick.

The API, the pages, the command line and the scheduler all call these. Rules are ``alerts.core.exercises``;
this module checks permissions, writes through ``alerts.store.exercises`` and audits every step (actor:
the user, or ``system`` for the scheduler).

Who sees what: exercise control and evaluators (``control_exercises``, ``evaluate_exercises``) see every
exercise with its MSEL (expected actions, controller notes). The training audience sees only that an
exercise in which its nation plays is running (name, state, STARTEX/ENDEX: what the EXERCISE band needs),
never the MSEL; an exercise its nation is not in does not exist for it. Injects reach players only as
alerts, through the inbox, released to the inject's ``to`` nations.

Errors: ``Forbidden``, ``NotFound`` (no such exercise or inject for the viewer), ``Conflict`` (the state
does not allow it: ``ExerciseStateError``), ``Invalid`` (a MSEL with problems: ``extra["problems"]``).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import ValidationError

from alerts.actions.centre import Centre
from alerts.actions.errors import Conflict, Forbidden, Invalid, NotFound
from alerts.actions.msel_checks import msel_problems
from alerts.actions.visibility import require
from alerts.core.assets import TaskingRefused, released
from alerts.core.events import (
    AssetReleased,
    ExerciseEnded,
    ExerciseLoaded,
    ExercisePaused,
    ExerciseResumed,
    ExerciseStarted,
    InjectFired,
    InjectSkipped,
)
from alerts.core.exercises import (
    MAX_SPEED,
    MIN_SPEED,
    Exercise,
    ExerciseState,
    ExerciseStateError,
    Inject,
    InjectState,
    exercise_name,
)
from alerts.core.injects import ended_play, inject_documents, sent_alert_ids
from alerts.core.model import Alert
from alerts.core.refusals import Refused
from alerts.core.roles import Permission
from alerts.core.viewer import SYSTEM, Viewer
from alerts.formats.decode import decode_alert
from alerts.formats.errors import Rejected
from alerts.formats.msel import MselError, Problem, read_msel_rows
from alerts.i18n import N_
from alerts.store.exercises import ExerciseStore, new_exercise_id
from alerts.store.lease import Fence

LIVE_STATES = (ExerciseState.RUNNING, ExerciseState.PAUSED)


def store_of(centre: Centre) -> ExerciseStore:
    """The exercise store; ``Conflict`` in a process built without one."""
    if centre.exercises is None:
        raise Conflict(N_("exercises are not configured in this process"))
    return centre.exercises


def controls(viewer: Viewer) -> bool:
    """Whether ``viewer`` sees MSELs (exercise control or evaluator)."""
    return viewer.can(Permission.CONTROL_EXERCISES) or viewer.can(Permission.EVALUATE_EXERCISES)


def plays_in(viewer: Viewer, exercise: Exercise) -> bool:
    """Whether ``viewer`` may know of ``exercise``: control and evaluators always, others when their
    nation takes part."""
    return controls(viewer) or (viewer.nation is not None and viewer.nation in exercise.nations)


def _decoded(text: str) -> Alert:
    return decode_alert(text)


def load(centre: Centre, viewer: Viewer, data: bytes, name: str, *, payloads: Callable[[str], str] | None = None,
         objectives: list[str] | None = None, speed: float = 1.0, exercise_id: str | None = None) -> Exercise:
    """A new exercise named ``name`` from MSEL bytes (CSV or XLSX, ``alerts.formats.msel``), planned.

    Nations are every ``to`` nation of the injects; objectives, those given or else the injects'
    ``objective`` column in order. A ``payload_file`` message must decode with the live decoders, and every
    inject pass ``alerts.actions.msel_checks`` (markings this deployment honours, checklist steps that exist).
    Raises ``Invalid`` with ``extra["problems"]`` (``row, column, message``) naming every problem.
    """
    require(viewer, Permission.CONTROL_EXERCISES)
    try:
        name = exercise_name(name)
    except Refused as error:
        raise Invalid(N_("name: %(error)s"), values={"error": error},
                      problems=[{"row": 0, "column": "name", "message": str(error)}]) from None
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise Invalid(N_("speed: between %(least)s and %(most)s"), values={"least": MIN_SPEED, "most": MAX_SPEED},
                      problems=[{"row": 0, "column": "speed", "message": f"between {MIN_SPEED} and {MAX_SPEED}"}])
    exercise_id = exercise_id or new_exercise_id()

    def planned(injects: list) -> Exercise:
        nations = list(dict.fromkeys(n for i in injects for n in i.to))
        goals = objectives or list(dict.fromkeys(i.objective for i in injects if i.objective))
        return Exercise.model_construct(id=exercise_id, name=name, nations=tuple(nations), objectives=tuple(goals),
                                        injects=tuple(injects), speed=speed)

    def deployment(rows: list[tuple[int, Inject]]) -> list[Problem]:  # in the same pass as the rows' own
        numbers = {i.number: row for row, i in rows}
        return [Problem(**p) for p in msel_problems(centre, planned([i for _, i in rows]), numbers, centre.clock())]

    try:
        rows = read_msel_rows(data, payloads, deployment)
    except MselError as error:
        raise Invalid.of(error, problems=[p.__dict__ for p in error.problems]) from None
    injects = [inject for _, inject in rows]
    draft = planned(injects)
    try:
        exercise = Exercise(**{field: getattr(draft, field) for field in ("id", "name", "nations", "objectives",
                                                                        "injects", "speed")})
    except ValidationError as error:  # the rows' checks above catch what a MSEL can get wrong; this is a guard
        raise Invalid(N_("the exercise is not consistent: %(error)s"), values={"error": error.errors()[0]["msg"]},
                      problems=[{"row": 0, "column": ".".join(map(str, e["loc"][:1])), "message": e["msg"]}
                                for e in error.errors()]) from None
    try:
        store_of(centre).add(exercise)
    except Refused as error:
        raise Conflict.of(error) from None
    centre.record(viewer, ExerciseLoaded(exercise.id, name=name, injects=len(injects), nations=list(exercise.nations)))
    return exercise


def exercises(centre: Centre, viewer: Viewer) -> list[Exercise]:
    """The exercises ``viewer`` may know of (``plays_in``), newest first."""
    require(viewer, Permission.VIEW)
    return [e for e in store_of(centre).all() if plays_in(viewer, e)]


def exercise(centre: Centre, viewer: Viewer, exercise_id: str) -> Exercise:
    """One exercise the viewer may know of; else ``NotFound``."""
    require(viewer, Permission.VIEW)
    found = store_of(centre).get(exercise_id)
    if found is None or not plays_in(viewer, found):
        raise NotFound(N_("no exercise %(exercise)s"), values={"exercise": repr(exercise_id)})
    return found


def running(centre: Centre, viewer: Viewer) -> list[Exercise]:
    """Exercises in play (running or paused) that ``viewer`` may know of: what the EXERCISE band shows."""
    return [e for e in exercises(centre, viewer) if e.state in LIVE_STATES]


#: How long a real-world stop stays announced on every page.
STOP_NOTICE = timedelta(hours=12)
REAL_WORLD_STOP = "REAL-WORLD STOP"


def _changed(centre: Centre, viewer: Viewer, exercise_id: str, change: Callable[[Exercise], Exercise]
             ) -> tuple[Exercise, Exercise]:
    require(viewer, Permission.CONTROL_EXERCISES)

    def checked(before: Exercise) -> Exercise:
        try:
            return change(before)
        except ExerciseStateError as error:
            raise Conflict.of(error, state=before.state.value) from None

    done = store_of(centre).change(exercise_id, checked)
    if done is None:
        raise NotFound(N_("no exercise %(exercise)s"), values={"exercise": repr(exercise_id)})
    return done


def start(centre: Centre, viewer: Viewer, exercise_id: str) -> Exercise:
    """STARTEX now (planned -> running)."""
    _changed(centre, viewer, exercise_id, lambda e: e.start(centre.clock()))
    entry = centre.record(viewer, ExerciseStarted(exercise_id))
    return _window(centre, exercise_id, audit_from=entry)


def _window(centre: Centre, exercise_id: str, **ends: str) -> Exercise:
    """Keep the audit entry id of STARTEX (``audit_from``) or ENDEX (``audit_to``) on the record: the window
    of the trail its evaluation reads (``alerts.actions.evaluation``)."""
    done = store_of(centre).change(exercise_id, lambda e: e.model_copy(update=ends))
    if done is None:
        raise NotFound(N_("no exercise %(exercise)s"), values={"exercise": repr(exercise_id)})
    return done[1]


def pause(centre: Centre, viewer: Viewer, exercise_id: str) -> Exercise:
    """Pause play: no inject fires until resumed."""
    _, after = _changed(centre, viewer, exercise_id, lambda e: e.pause(centre.clock()))
    centre.record(viewer, ExercisePaused(exercise_id))
    return after


def resume(centre: Centre, viewer: Viewer, exercise_id: str) -> Exercise:
    """Resume play: every pending inject moves later by exactly the pause."""
    before, after = _changed(centre, viewer, exercise_id, lambda e: e.resume(centre.clock()))
    paused = (after.paused_for - before.paused_for).total_seconds()
    centre.record(viewer, ExerciseResumed(exercise_id, paused_s=paused))
    return after


def end(centre: Centre, viewer: Viewer, exercise_id: str, reason: str | None = None) -> Exercise:
    """ENDEX now; unfired injects expire."""
    _changed(centre, viewer, exercise_id, lambda e: e.end(centre.clock(), reason))
    entry = centre.record(viewer, ExerciseEnded(exercise_id, reason=reason or ""))
    after = _window(centre, exercise_id, audit_to=entry)
    close_injects(centre, after, viewer.name, every_asset=True)
    return after


#: After ENDEX, how long the scheduler keeps closing injects' alerts that arrive late (e.g. ingested
#: after an outage): see ``close_injects``.
ENDEX_SWEEP = timedelta(minutes=10)


def close_injects(centre: Centre, ex: Exercise, actor: str = SYSTEM.name, every_asset: bool = False) -> list[str]:
    """At ENDEX: close every open alert of ``ex``'s fired injects as ``expired`` at ENDEX
    (``alerts.core.injects.ended_play``), so none is escalated after play ended, and release every asset
    still tasked to one of them (real assets go back to ``ready`` for real work; each release audited as
    ``asset.release`` by ``actor``: whoever ended play, or ``system``; ``every_asset``: look through the
    stored assets, as ``end`` does once, else through this process's asset read model, as the scheduler's
    sweep does every pass). Returns the ids of the alerts closed.
    ``end`` calls it (the real-world stop too), and the scheduler again for ``ENDEX_SWEEP`` after ENDEX
    (an inject fired just before ENDEX may be ingested after it)."""
    if ex.state is not ExerciseState.ENDED or ex.endex is None:
        return []
    ids = [alert_id for n in sorted(ex.fired) for alert_id in sent_alert_ids(ex, n).values()]
    _release_assets(centre, set(ids), actor, centre.assets.all() if every_asset else centre.asset_index.all())
    closed = []
    for alert_id, stored in zip(ids, centre.alerts.get_many(ids)):
        if stored is None or not stored.status.is_open:
            continue
        done = centre.alerts.change(alert_id, lambda s: ended_play(s, ex.endex))
        if done is not None and done[1] is not done[0]:
            closed.append(alert_id)
    return closed


def _release_assets(centre: Centre, alert_ids: set[str], actor: str, assets: list) -> None:
    for asset in assets:
        if asset.assigned_to not in alert_ids:
            continue
        try:
            done = centre.assets.change(asset.id, lambda a, to=asset.assigned_to: released(a, to, centre.clock()))
        except TaskingRefused:  # released or retasked meanwhile
            continue
        if done is not None:
            centre.asset_index.put(done[1])
            centre.audit.record(actor, AssetReleased(asset.id, alert_id=asset.assigned_to, status=done[1].status.value))


def stop_all(centre: Centre, viewer: Viewer, reason: str) -> list[Exercise]:
    """The real-world stop: end every running or paused exercise now, with ``reason`` (required, announced
    on every page, ``notices``). Planned exercises stay planned: they are not in play, so there is nothing to
    halt, and exercise control decides later whether to start or cancel (``end``) them. Returns the
    exercises stopped."""
    require(viewer, Permission.CONTROL_EXERCISES)
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(N_("say why play stops (it is announced on every page)"))
    stopped = []
    for found in store_of(centre).all():
        if found.state not in LIVE_STATES:
            continue
        try:
            stopped.append(end(centre, viewer, found.id, reason=f"{REAL_WORLD_STOP}: {reason}"))
        except Conflict:  # ended meanwhile by another controller
            continue
    return stopped


def _documents(exercise: Exercise, numbers: list[int], now: datetime) -> list[str]:
    documents = []
    for number in numbers:
        inject = exercise.inject(number)
        payload = None
        if inject.payload is not None:
            try:
                payload = _decoded(inject.payload)
            except Rejected:  # checked at load; a message the decoders now refuse is sent as its MSEL row
                payload = None
        documents += [json.dumps(d) for d in inject_documents(exercise, inject, now, payload)]
    return documents


def _fire(centre: Centre, exercise_id: str, wanted: Callable[[Exercise], list[int]], actor: str, cause: str,
          now: datetime, fence: Fence | None = None) -> list[int]:
    """Fire the injects ``wanted(exercise)`` names that are still pending or on standby, exactly once."""
    def change(before: Exercise) -> tuple[Exercise, list[str]] | None:
        numbers = [n for n in wanted(before)
                   if before.inject_state(n) in (InjectState.PENDING, InjectState.STANDBY)]
        if not numbers:
            return None
        after = before
        for number in numbers:
            after = after.mark_fired(number, now)
        return after, _documents(before, numbers, now)

    done = store_of(centre).fire(exercise_id, change, fence)
    if done is None:
        raise NotFound(N_("no exercise %(exercise)s"), values={"exercise": repr(exercise_id)})
    before, after, _ = done
    fired = sorted(set(after.fired) - set(before.fired))
    for number in fired:
        alert_ids = sent_alert_ids(after, number).values()
        centre.audit.record(actor, InjectFired(exercise_id, inject=number, alert_id=",".join(alert_ids),
                                               cause="backup" if number in after.triggered else cause))
    return fired


def fire_now(centre: Centre, viewer: Viewer, exercise_id: str, number: int) -> Exercise:
    """Send inject ``number`` at once (running or paused; a standby backup too)."""
    require(viewer, Permission.CONTROL_EXERCISES)
    current = exercise(centre, viewer, exercise_id)
    try:
        state = current.inject_state(number)
    except KeyError:
        raise NotFound(N_("exercise %(exercise)s has no inject %(inject)s"),
                       values={"exercise": repr(exercise_id), "inject": number}) from None
    if current.state not in LIVE_STATES or state not in (InjectState.PENDING, InjectState.STANDBY):
        raise Conflict(N_("inject %(inject)s cannot fire: the exercise is %(exercise)s, the inject %(state)s"),
                       values={"inject": number, "exercise": current.state.value, "state": state.value})
    if not _fire(centre, exercise_id, lambda e: [number], viewer.name, "fire_now", centre.clock()):
        raise Conflict(N_("inject %(inject)s was fired or skipped meanwhile"), values={"inject": number})
    return exercise(centre, viewer, exercise_id)


def skip(centre: Centre, viewer: Viewer, exercise_id: str, number: int) -> Exercise:
    """Drop inject ``number``: it will not fire."""
    current = exercise(centre, viewer, exercise_id)
    if not any(i.number == number for i in current.injects):
        raise NotFound(N_("exercise %(exercise)s has no inject %(inject)s"),
                       values={"exercise": repr(exercise_id), "inject": number})
    _, after = _changed(centre, viewer, exercise_id, lambda e: e.skip(number))
    centre.record(viewer, InjectSkipped(exercise_id, inject=number))
    return after


def tick(centre: Centre, missed: Callable[[Exercise, int, datetime], set[str]], fence: Fence | None = None
         ) -> list[tuple[str, int]]:
    """One scheduler step at ``centre.clock()``: close late-arriving injects of exercises that ended in the
    last ``ENDEX_SWEEP`` (``close_injects``); for each running exercise, decide the backups of injects
    whose expected action can now be scored (``missed(exercise, inject, now)``: the nations that missed it;
    backups go to those only), then fire every due inject, fenced by ``fence`` (the scheduler's lease: a stale
    one raises ``StaleFence`` and fires nothing). Returns ``(exercise id, inject)`` fired, in order."""
    now, fired = centre.clock(), []
    for found in store_of(centre).all():
        if found.state is ExerciseState.ENDED and found.endex is not None and now - found.endex <= ENDEX_SWEEP:
            close_injects(centre, found)
        if found.state is not ExerciseState.RUNNING:
            continue
        for inject in found.undecided(now):
            was_missed = missed(found, inject.number, now)
            store_of(centre).change(found.id, lambda e, n=inject.number, m=was_missed: (
                e.decide(n, m, now) if n not in e.decided else None))
        for number in _fire(centre, found.id, lambda e: [i.number for i in e.due(now)], SYSTEM.name,
                            "schedule", now, fence):
            fired.append((found.id, number))
    return fired


def require_controls(viewer: Viewer) -> None:
    """``Forbidden`` unless ``viewer`` is exercise control or an evaluator."""
    if not controls(viewer):
        raise Forbidden(N_("role %(role)s may not read an exercise's MSEL"), values={"role": viewer.role})
