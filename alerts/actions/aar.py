"""After-action review (AAR) as use cases: the report of an exercise or of a real incident window, and the
parts evaluators enter (objective ratings, the improvement plan).

**Exercise AAR** (``exercise_report``; exercise control and evaluators, ``evaluate_exercises``): per objective
the evaluators' P/S/M/U rating beside the computed evidence (the expected-action outcomes of the injects that
serve it); per inject and per ``to`` nation the time to acknowledge, to the first checklist step, to the
first asset tasked and to resolve (seconds from the inject's firing; the facts ``alerts.actions.evaluation``
reads from the audit trail, credited to the actor's nation) and the expected action's outcome
(``alerts.actions.evaluation.evaluation``); per nation the median and 90th percentile
(``alerts.core.aar.summary``); strengths and areas for improvement from the observations; the improvement
plan. Marked with the highest classification of the inject alerts and ``EXERCISE``. Computed on demand from
the record, so it is ready as soon as ENDEX is recorded.

**Incident AAR** (``incident_report``; ``export``): the same times for every alert that reached the caller in
``[since, until]``, from its arrival (recorded, released from Unrouted, or widened to the caller's nation:
``arrivals``), per alert and per nation, with the summary; real alerts only unless exercise alerts are asked
for.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerts.actions import evaluation
from alerts.actions.centre import Centre
from alerts.actions.errors import Invalid, NotFound
from alerts.actions.exercises import exercise
from alerts.actions.replay import timeline
from alerts.actions.visibility import require, restricted
from alerts.core.aar import (
    RATINGS,
    Improvement,
    Rating,
    check_due,
    findings,
    response_times,
    summary,
)
from alerts.core.events import (
    ALERT_CREATED,
    ALERT_ROUTED,
    AarExported,
    ImprovementPlanned,
    ObjectiveRated,
)
from alerts.core.injects import sent_alert_ids
from alerts.core.model import StoredAlert
from alerts.core.refusals import Refused
from alerts.core.roles import Permission
from alerts.core.times import parse_instant
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from alerts.store.aar import AarStore

#: Audit actions that change who may see an alert (their ``at``: when it reached the nations it took in).
RELEASE_ACTIONS = frozenset({"alert.release", "alert.releasability", "releasability.decide"})


def _store(centre: Centre) -> AarStore:
    return AarStore(centre.audit.client, centre.audit.keys)


def _marking(centre: Centre, levels: list[str | None], exercise: bool) -> str:
    """The highest of ``levels`` (the deployment's lowest when none), and ``EXERCISE`` when it applies."""
    ranks = {level: n for n, level in enumerate(centre.scheme.levels)}
    top = max((lv for lv in levels if lv in ranks), key=ranks.__getitem__, default=centre.scheme.lowest)
    return f"{top} // EXERCISE" if exercise else top


def exercise_report(centre: Centre, viewer: Viewer, exercise_id: str) -> dict[str, Any]:
    """The AAR of ``exercise_id`` (module docstring) as a JSON-able dict: ``marking``, ``exercise``, ``name``,
    ``state``, ``startex``, ``endex``, ``at``, ``objectives`` [{number, text, rating, evidence}], ``injects``
    [{inject, title, objective, fired_at, alert_ids ({ISO2: the id of that nation's copy}), expected_action,
    nations: {ISO2: {acknowledge,
    first_step, assign, resolve (seconds or None), expected (met/missed/pending/ended/None)}}}], ``summary`` {ISO2:
    {measure: {n, median, p90}}}, ``strengths``, ``areas_for_improvement``, ``notes`` (observations) and
    ``improvements``. ``Forbidden`` without ``evaluate_exercises``; ``NotFound`` for an unknown exercise."""
    scored = evaluation.evaluation(centre, viewer, exercise_id)
    ex = exercise(centre, viewer, exercise_id)
    copies = {n: sent_alert_ids(ex, n) for n in ex.fired}  # inject -> {nation: alert id}
    alert_ids = [alert_id for per_nation in copies.values() for alert_id in per_nation.values()]
    facts = evaluation.facts(centre, alert_ids, ex)
    injects, rows = [], []
    for row in scored["injects"]:
        number = row["inject"]
        nations: dict[str, dict] = {}
        if number in ex.fired:
            played = {}  # each nation is timed on its own copy of the inject
            for nation in row["to"]:
                copy = copies[number].get(nation)
                times = response_times(ex.fired[number], [f for _, f in facts.get(copy, [])]) if copy else {}
                if nation in times:
                    played[nation] = times[nation]
                outcome = row["nations"].get(nation)
                nations[nation] = dict(times.get(nation) or {m: None for m in
                                                             ("acknowledge", "first_step", "assign", "resolve")})
                nations[nation]["expected"] = outcome["outcome"] if outcome else None
            rows.append(played)
        injects.append({k: row[k] for k in ("inject", "title", "objective", "fired_at", "alert_ids",
                                            "expected_action")} | {"to": row["to"], "nations": nations})
    ratings = _store(centre).ratings(ex.id)
    objectives = []
    for number, text in enumerate(ex.objectives, start=1):
        serving = [i for i in injects if i["objective"] and i["objective"].strip().lower() == text.strip().lower()]
        outcomes = [n["expected"] for i in serving for n in i["nations"].values() if n["expected"]]
        rated = ratings.get(number)
        objectives.append({"number": number, "text": text,
                           "rating": rated.model_dump(mode="json") if rated else None,
                           "evidence": {"injects": [i["inject"] for i in serving],
                                        **{o: outcomes.count(o) for o in ("met", "missed", "pending", "ended")}}})
    stored = centre.alerts.get_many(list(alert_ids))
    return {"marking": _marking(centre, [s.routing.classification for s in stored if s], True),
            "exercise": ex.id, "name": ex.name, "state": ex.state.value,
            "startex": ex.startex.isoformat() if ex.startex else None,
            "endex": ex.endex.isoformat() if ex.endex else None, "at": scored["at"],
            "objectives": objectives, "injects": injects, "summary": summary(rows),
            **findings(scored["observations"]),
            "improvements": [i.model_dump(mode="json") for i in _store(centre).improvements(ex.id)]}


def arrivals(centre: Centre, viewer: Viewer, since: datetime, until: datetime) -> list[tuple[StoredAlert, datetime]]:
    """The alerts that reached ``viewer`` from ``since`` to ``until`` (aware), in order, each with when: its
    recording (``released_at`` or ``received_at``) when the viewer could see it from the start; its release
    from Unrouted (``released_at``) or the releasability change that took in the viewer's nation (that audit
    entry's time) when it reached the viewer later. Only what the viewer may see (``timeline``)."""
    query = restricted(centre, viewer)
    found: dict[str, tuple[StoredAlert, datetime]] = {}
    widened: set[str] = set()  # reached the viewer by a change whose audit entry gives the time
    for event in timeline(centre, viewer, since, until).events:
        if event.alert is None:
            if event.kind in RELEASE_ACTIONS and event.object in widened:
                widened.discard(event.object)
                found[event.object] = (found[event.object][0], parse_instant(event.detail["at"]))
            continue
        stored = event.alert
        if stored.id in found:
            continue
        if event.kind == ALERT_CREATED:
            found[stored.id] = (stored, stored.routing.released_at or stored.received_at)
        elif event.kind == ALERT_ROUTED and event.previous is not None and not query.releasable(
                stored.model_copy(update={"routing": event.previous})):
            released = event.previous.releasable_to is None and stored.routing.released_at is not None
            found[stored.id] = (stored, stored.routing.released_at if released else event.at)
            if not released:
                widened.add(stored.id)
    return list(found.values())


def incident_report(centre: Centre, viewer: Viewer, since: datetime, until: datetime,
                    include_exercise: bool = False) -> dict[str, Any]:
    """The AAR of a real incident window: every alert that reached ``viewer`` from ``since`` to ``until``
    (aware; ``arrivals``), timed from its arrival, with ``alerts`` [{alert_id, title, severity, received_at
    (the arrival), exercise, nations: {ISO2: times}}] and the ``summary``; ``marking`` the highest
    classification among them (``EXERCISE`` added when exercise alerts are in). Exercise alerts are left out
    unless ``include_exercise`` (``exercise_alerts``: how many were found, in or out), so play never counts
    in a real response's figures. ``Forbidden`` without ``export``; ``Invalid`` when ``since`` is after
    ``until``."""
    require(viewer, Permission.EXPORT)
    arrived = arrivals(centre, viewer, since, until)
    played = sum(1 for stored, _ in arrived if stored.alert.exercise)
    if not include_exercise:
        arrived = [(stored, start) for stored, start in arrived if not stored.alert.exercise]
    facts = evaluation.facts(centre, [stored.id for stored, _ in arrived])
    alerts, rows = [], []
    for stored, start in arrived:
        times = response_times(start, [f for _, f in facts.get(stored.id, [])])
        rows.append(times)
        alerts.append({"alert_id": stored.id, "title": stored.alert.title, "severity": stored.alert.severity.value,
                       "received_at": start.isoformat(), "exercise": stored.alert.exercise, "nations": times})
    return {"marking": _marking(centre, [s.routing.classification for s, _ in arrived],
                                any(s.alert.exercise for s, _ in arrived)),
            "since": since.isoformat(), "until": until.isoformat(), "at": centre.clock().isoformat(),
            "include_exercise": include_exercise, "exercise_alerts": played,
            "alerts": alerts, "summary": summary(rows)}


def audit_export(centre: Centre, viewer: Viewer, report: dict[str, Any], format_: str, *, ip: str = "",
                 actor: str | None = None) -> None:
    """Audit an AAR export (``export.aar``, as a SITREP's): ``report`` (of ``exercise_report`` or
    ``incident_report``) handed out as ``format_``; ``actor`` names who (default the viewer; the CLI passes
    ``cli:<user>``)."""
    if "exercise" in report:
        event = AarExported(report["exercise"], format=format_,
                            alerts=sum(len(i["alert_ids"] or {}) for i in report["injects"]))
    else:
        event = AarExported("incident", format=format_, window={"since": report["since"], "until": report["until"]},
                            alerts=len(report["alerts"]))
    centre.audit.record(actor or viewer.name, event, ip or viewer.address)


def rate(centre: Centre, viewer: Viewer, exercise_id: str, objective: int, rating: str, note: str = "") -> Rating:
    """An evaluator rates objective ``objective`` (from 1) P, S, M or U (HSEEP), with an optional note;
    audited. ``NotFound`` for an objective the exercise does not have; ``Invalid`` for another rating."""
    require(viewer, Permission.EVALUATE_EXERCISES)
    ex = exercise(centre, viewer, exercise_id)
    if not 1 <= objective <= len(ex.objectives):
        raise NotFound(N_("exercise %(exercise)s has no objective %(objective)s"),
                       values={"exercise": repr(exercise_id), "objective": objective})
    if rating not in RATINGS:
        raise Invalid(N_("a rating is one of %(ratings)s (HSEEP: P, S, M, U)"), values={"ratings": ", ".join(RATINGS)})
    rated = Rating(objective=objective, rating=rating, note=note, by=viewer.name, at=centre.clock())
    _store(centre).rate(ex.id, rated)
    centre.record(viewer, ObjectiveRated(ex.id, objective=objective, rating=rating))
    return rated


def plan(centre: Centre, viewer: Viewer, exercise_id: str, item: Improvement) -> Improvement:
    """Add an improvement plan item (or, with the ``id`` of one, replace it); audited. ``Invalid`` for a due
    date out of range (``alerts.core.aar.check_due``, by the centre's clock); ``NotFound`` for an ``id`` the
    plan does not hold."""
    require(viewer, Permission.EVALUATE_EXERCISES)
    ex = exercise(centre, viewer, exercise_id)
    store = _store(centre)
    try:
        check_due(item.due, centre.clock().astimezone(UTC).date())
    except Refused as exc:
        raise Invalid.of(exc) from None
    if item.id and not store.has_item(ex.id, item.id):
        raise NotFound(N_("exercise %(exercise)s has no improvement %(item)s"),
                       values={"exercise": repr(exercise_id), "item": repr(item.id)})
    stored = store.plan(ex.id, item.model_copy(update={"by": viewer.name, "at": centre.clock()}))
    centre.record(viewer, ImprovementPlanned(ex.id, item=stored.id, owner=stored.owner, due=stored.due.isoformat(),
                                             status=stored.status.value))
    return stored
