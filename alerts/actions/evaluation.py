"""Exercise evaluation: expected actions scored from what players did, observations, training records.

**Facts** come from the audit trail, the one attributable record of what each user did: acknowledgments
(``alert.acknowledge``), checklist steps (``checklist.step_done``, with the step number), resolutions
(``alert.resolve``) and taskings (``asset.assign``, matching the asset's id, type and capabilities), each on
an inject's alert, at the entry's ``at`` time, credited to the actor's nation (the account's nation now).
Each ``to`` nation has its own copy of an inject (``alerts.core.injects``) and is scored on that copy only,
from its own users' actions. Only the exercise's window of the trail is read (STARTEX to ENDEX, by stream
id, ``Exercise.audit_window``): actions after ENDEX do not count.
``alerts.core.expected_actions.score`` turns them into met / missed / pending per inject and per ``to``
nation (HSEEP: expected player actions, evaluated per training audience).

Reading: evaluation and observations need ``evaluate_exercises``; a training record is read by the user
it is about, leadership of that user's nation, and exercise control / evaluators.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alerts.actions.centre import Centre
from alerts.actions.errors import Forbidden, Invalid, NotFound
from alerts.actions.exercises import controls, exercise, store_of
from alerts.actions.visibility import require
from alerts.core.events import ObservationRecorded
from alerts.core.exercises import Exercise, ExerciseState
from alerts.core.expected_actions import ActionKind, Fact, Outcome, score
from alerts.core.injects import inject_alert_id, sent_alert_ids
from alerts.core.roles import Permission, Role
from alerts.core.times import parse_instant
from alerts.core.usernames import UserNameTooLong, normalise
from alerts.core.viewer import Viewer
from alerts.i18n import N_

#: HSEEP's ratings of performance: Performed without challenges, with Some challenges, with Major
#: challenges, Unable to be performed.
RATINGS = ("P", "S", "M", "U")
MAX_OBSERVATION = 2_000
_KINDS = {"alert.acknowledge": ActionKind.ACKNOWLEDGE, "checklist.step_done": ActionKind.STEP,
          "alert.resolve": ActionKind.RESOLVE, "asset.assign": ActionKind.ASSIGN}


def facts(centre: Centre, alert_ids: Iterable[str], ex: Exercise | None = None) -> dict[str, list[tuple[str, Fact]]]:
    """``alert id -> [(actor, Fact)]`` for the given alerts, from the audit trail (oldest first); actors
    without an account (``system``, ``cli:...``) are not players and are left out. With ``ex``, only the
    exercise's window of the trail is read (``Exercise.audit_window``: STARTEX to ENDEX, by stream id)."""
    wanted, found = set(alert_ids), defaultdict(list)
    low, high = ex.audit_window() if ex is not None else ("-", "+")
    for entry in centre.audit.read_range(low, high):
        kind = _KINDS.get(entry.action)
        if kind is None:
            continue
        alert_id = entry.detail.get("alert_id") if kind is ActionKind.ASSIGN else entry.object
        if alert_id not in wanted:
            continue
        nation = centre.nation_of(entry.actor)
        if nation is None:
            continue
        matches: set[str] = set()
        if kind is ActionKind.STEP:
            matches.add(str(entry.detail.get("step", "")))
        elif kind is ActionKind.ASSIGN:
            asset = centre.assets.get(entry.object)
            matches.add(entry.object)
            if asset is not None:
                matches |= {asset.type.value, *asset.capabilities}
        found[alert_id].append((entry.actor, Fact(kind, parse_instant(entry.at), nation, frozenset(matches))))
    return found


def _fired_alerts(ex: Exercise, numbers: Iterable[int]) -> dict[str, tuple[int, str]]:
    """``alert id -> (inject, nation)`` of the alerts the fired injects among ``numbers`` play."""
    return {alert_id: (n, nation) for n in numbers if n in ex.fired
            for nation, alert_id in sent_alert_ids(ex, n).items()}


def _score(ex: Exercise, number: int, nation: str, by_alert: dict[str, list[tuple[str, Fact]]], now: datetime):
    """``nation``'s score on inject ``number``: only what that nation's users did to that nation's own copy
    of the inject (``alerts.core.injects``) counts, on the play clock (``Exercise.play_elapsed``: pauses
    left out, ``speed`` applied); after ENDEX the outcome is final (``ended`` when play ended before a
    deadline). None when the inject has no expected action, has not fired, or did not go to ``nation``."""
    inject = ex.inject(number)
    if number not in ex.fired or not inject.clauses or nation not in ex.sent_to(number):
        return None
    fired = ex.fired[number]
    alert_facts = by_alert.get(inject_alert_id(ex.id, number, nation), [])
    return score(inject.clauses, fired, [f for _, f in alert_facts if f.nation == nation], now,
                 elapsed=lambda at: ex.play_elapsed(fired, at),
                 ended_at=ex.endex if ex.state is ExerciseState.ENDED else None)


def missed_by(centre: Centre):
    """The scheduler's backup rule (``alerts.actions.exercises.tick``): the nations of an inject that missed
    its expected action (its backups go to those only)."""
    def missed(ex: Exercise, number: int, now: datetime) -> set[str]:
        by_alert = facts(centre, _fired_alerts(ex, [number]), ex)
        return {n for n in ex.sent_to(number)
                if (s := _score(ex, number, n, by_alert, now)) is not None and s.outcome is Outcome.MISSED}
    return missed


def evaluation(centre: Centre, viewer: Viewer, exercise_id: str) -> dict[str, Any]:
    """The evaluation table at ``centre.clock()``: one row per inject, in MSEL order, with its state, when it
    fired, its expected action and per ``to`` nation ``{outcome, taken_s, clauses}`` (None without an
    expected action, before firing, or for a nation a backup did not go to), plus the observations.
    Outcomes: ``met``, ``missed``, ``pending``, ``ended`` (play ended before the deadline: not a miss)."""
    require(viewer, Permission.EVALUATE_EXERCISES)
    ex, now = exercise(centre, viewer, exercise_id), centre.clock()
    by_alert = facts(centre, _fired_alerts(ex, ex.fired), ex)
    rows = []
    for inject in ex.injects:
        nations = {}
        for nation in inject.to:
            got = _score(ex, inject.number, nation, by_alert, now)
            nations[nation] = None if got is None else {
                "outcome": got.outcome.value, "taken_s": got.taken.total_seconds() if got.taken else None,
                "clauses": [{"clause": c, "outcome": o.value} for c, o in got.clauses]}
        rows.append({"inject": inject.number, "title": inject.title, "to": list(inject.to),
                     "objective": inject.objective, "state": ex.inject_state(inject.number).value,
                     "fired_at": ex.fired[inject.number].isoformat() if inject.number in ex.fired else None,
                     "alert_ids": sent_alert_ids(ex, inject.number) if inject.number in ex.fired else None,
                     "expected_action": inject.expected_action, "backup_for": inject.backup_for,
                     "nations": nations})
    return {"exercise": ex.id, "name": ex.name, "state": ex.state.value, "at": now.isoformat(), "injects": rows,
            "observations": store_of(centre).observations(ex.id)}


def observe(centre: Centre, viewer: Viewer, exercise_id: str, inject: int | None, text: str, rating: str | None
            ) -> dict[str, Any]:
    """Record an evaluator's observation (``inject`` optional; ``rating`` one of ``RATINGS`` or None)."""
    require(viewer, Permission.EVALUATE_EXERCISES)
    ex = exercise(centre, viewer, exercise_id)
    text = (text or "").strip()
    if not text or len(text) > MAX_OBSERVATION:
        raise Invalid(N_("an observation is 1 to %(most)s characters"), values={"most": MAX_OBSERVATION})
    if rating is not None and rating not in RATINGS:
        raise Invalid(N_("a rating is one of %(ratings)s (HSEEP: P, S, M, U)"), values={"ratings": ", ".join(RATINGS)})
    if inject is not None and not any(i.number == inject for i in ex.injects):
        raise NotFound(N_("exercise %(exercise)s has no inject %(inject)s"),
                       values={"exercise": repr(exercise_id), "inject": inject})
    observation = {"by": viewer.name, "nation": viewer.nation, "at": centre.clock().isoformat(),
                   "inject": inject, "text": text, "rating": rating}
    store_of(centre).add_observation(ex.id, observation)
    centre.record(viewer, ObservationRecorded(ex.id, inject=inject or 0, rating=rating or "", text=text))
    return observation


def training(centre: Centre, viewer: Viewer, user: str) -> dict[str, Any]:
    """``user``'s training record: per exercise in which the user acted on an inject, the injects handled,
    what the user did and when, and whether the user's nation met each expected action.

    ``user`` is normalised as account names are (``alerts.core.usernames``). Readers: the user, leadership of
    the user's nation, exercise control and evaluators; anyone else gets ``Forbidden``; an unknown user
    ``NotFound`` (for readers who may read records at all)."""
    require(viewer, Permission.VIEW)
    try:
        user = normalise(user)  # as accounts key it: "Duty-RS" is duty-rs (alerts.core.usernames)
    except UserNameTooLong:
        raise NotFound(N_("no such user")) from None
    nation = centre.nation_of(user)
    own = viewer.name == user
    lead = viewer.role == Role.LEADERSHIP.value and nation is not None and nation == viewer.nation
    if not (own or lead or controls(viewer)):
        raise Forbidden(N_("a training record is read by its user, that nation's leadership and exercise control"))
    if nation is None:
        raise NotFound(N_("no user %(user)s"), values={"user": repr(user)})
    now, records = centre.clock(), []
    for ex in store_of(centre).all():
        ids = _fired_alerts(ex, ex.fired)
        by_alert = facts(centre, ids, ex)
        handled = []
        for alert_id, alert_facts in sorted(by_alert.items(), key=lambda kv: ids[kv[0]]):
            mine = [f for actor, f in alert_facts if actor == user]
            if not mine:
                continue
            number = ids[alert_id][0]
            got = _score(ex, number, nation, by_alert, now)
            handled.append({"inject": number, "title": ex.inject(number).title,
                            "actions": [{"kind": f.kind.value, "at": f.at.isoformat()} for f in mine],
                            "expected": None if got is None else got.outcome.value,
                            "taken_s": got.taken.total_seconds() if got is not None and got.taken else None})
        if handled:
            records.append({"exercise": ex.id, "name": ex.name, "startex": ex.startex.isoformat() if ex.startex else None,
                            "injects": handled,
                            "met": sum(1 for h in handled if h["expected"] == Outcome.MET.value)})
    return {"user": user, "nation": nation, "exercises": records}
