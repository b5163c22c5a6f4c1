"""Exercises as data: states, the schedule of injects, pauses, fire now, skip, backups."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from alerts.core.exercises import (
    Exercise,
    ExerciseState,
    ExerciseStateError,
    Inject,
    InjectState,
)

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def inject(number, minutes, to=("RS",), **more):
    return Inject(number=number, offset=minutes * M, to=list(to), type="natural_disaster", severity="high",
                  title=f"Inject {number}", lat=44.8, lon=20.4, **more)


def exercise(*injects, **more):
    return Exercise(id="ex-1", name="SEISMIC SHIELD", nations=["RS", "HR", "MK"], injects=list(injects), **more)


def test_exr001_injects_are_due_at_startex_plus_offset_in_order():
    ex = exercise(inject(2, 10), inject(1, 5), inject(3, 10, to=("HR",))).start(T0)
    assert ex.due(T0 + 4 * M) == []
    assert [i.number for i in ex.due(T0 + 10 * M)] == [1, 2, 3]
    assert ex.next_due(T0) == T0 + 5 * M
    assert ex.inject_state(1) is InjectState.PENDING


def test_exr002_a_pause_shifts_every_pending_inject_by_exactly_the_paused_time_no_burst_on_resume():
    ex = exercise(inject(1, 5), inject(2, 30), inject(3, 60)).start(T0)
    ex = ex.mark_fired(1, T0 + 5 * M)
    ex = ex.pause(T0 + 20 * M)
    assert ex.due(T0 + 3 * 60 * M) == []                     # nothing fires while paused
    assert ex.due_at(2, T0 + 3 * 60 * M) == T0 + 30 * M + 160 * M
    ex = ex.resume(T0 + 3 * 60 * M)                           # 2 h 40 min later
    assert ex.due(T0 + 3 * 60 * M) == []                      # no burst of "overdue" injects
    assert ex.due_at(2, T0 + 3 * 60 * M) == T0 + 190 * M and ex.due_at(3, T0) == T0 + 220 * M
    assert ex.paused_for == 160 * M


def test_exr003_speed_compresses_the_msel_for_a_dry_run():
    ex = exercise(inject(1, 60), speed=60).start(T0)
    assert ex.due_at(1, T0) == T0 + timedelta(minutes=1)


def test_exr004_fire_now_skip_and_end():
    ex = exercise(inject(1, 5), inject(2, 30), inject(3, 40)).start(T0)
    ex = ex.mark_fired(2, T0 + M).skip(3)
    assert ex.inject_state(2) is InjectState.FIRED and ex.inject_state(3) is InjectState.SKIPPED
    assert [i.number for i in ex.due(T0 + 60 * M)] == [1]
    with pytest.raises(ExerciseStateError, match="fired"):
        ex.mark_fired(2, T0 + 2 * M)
    ended = ex.end(T0 + 2 * M)
    assert ended.state is ExerciseState.ENDED and ended.endex == T0 + 2 * M
    assert ended.inject_state(1) is InjectState.EXPIRED and ended.due(T0 + 60 * M) == []


@pytest.mark.parametrize("action", ["pause", "resume", "start"])
def test_exr005_impossible_transitions_say_the_state(action):
    ex = exercise(inject(1, 5))
    if action != "start":
        ex = ex.start(T0).end(T0 + M)
    else:
        ex = ex.start(T0)
    with pytest.raises(ExerciseStateError, match="it is (running|ended)"):
        getattr(ex, action)(T0 + 2 * M)


def test_exr006_a_backup_stands_by_until_its_primary_is_missed_then_is_due_at_once():
    ex = exercise(inject(1, 5, expected_action="acknowledge within 5m"), inject(2, 6, backup_for=1)).start(T0)
    assert ex.inject_state(2) is InjectState.STANDBY and [i.number for i in ex.due(T0 + 60 * M)] == [1]
    ex = ex.mark_fired(1, T0 + 5 * M)
    assert ex.undecided(T0 + 10 * M) == []                       # its deadline (5 min) has not passed
    assert [i.number for i in ex.undecided(T0 + 10 * M + timedelta(seconds=1))] == [1]
    met = ex.decide(1, missed=False, now=T0 + 11 * M)
    assert met.inject_state(2) is InjectState.STANDBY and met.undecided(T0 + 60 * M) == []
    ex = ex.decide(1, missed=True, now=T0 + 11 * M)
    assert ex.inject_state(2) is InjectState.PENDING and ex.due_at(2, T0) == T0 + 11 * M
    assert [i.number for i in ex.due(T0 + 11 * M)] == [2] and ex.undecided(T0 + 60 * M) == []


def test_exr007_an_exercise_round_trips_as_json():
    ex = exercise(inject(1, 5, expected_action="acknowledge within 5m"), inject(2, 6, backup_for=1)).start(T0).pause(T0 + M).resume(T0 + 3 * M)
    ex = ex.mark_fired(1, T0 + 7 * M).decide(1, missed=True, now=T0 + 13 * M).end(T0 + 14 * M, 'real-world flood')
    assert Exercise.model_validate_json(ex.model_dump_json()) == ex


@pytest.mark.parametrize("bad, says", [
    (lambda: exercise(inject(1, 5), inject(1, 6)), "repeat: 1"),
    (lambda: exercise(inject(1, 5, backup_for=9)), "not in the MSEL"),
    (lambda: exercise(inject(1, 5, to=("AL",))), "AL, which do not take part"),
    (lambda: inject(1, 5, to=("XX",)), "alpha-2"),
    (lambda: inject(1, -5), "offset"),
    (lambda: inject(1, 5, expected_action="wave within 5m"), "is not"),
    (lambda: Inject(number=1, offset=M, to=["RS"], type="other", severity="low", title="t"), "lat and lon"),
    (lambda: exercise(inject(1, 5, backup_for=2, expected_action="acknowledge within 5m"),
                      inject(2, 6, backup_for=1, expected_action="acknowledge within 5m")), "circle"),
    (lambda: exercise(inject(1, 5), speed=1e-9), "speed"),
])
def test_exr008_an_inconsistent_exercise_is_refused(bad, says):
    with pytest.raises(ValidationError, match=says):
        bad()
