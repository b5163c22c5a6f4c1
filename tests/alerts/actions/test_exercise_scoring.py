"""Scoring a joint exercise per nation: an inject to several nations is one copy per nation, each acknowledged
and scored on its own; evaluation reads only the exercise's window of the audit trail."""
from __future__ import annotations

import pytest

from alerts.actions import evaluation, exercises, workflow
from alerts.actions.errors import Conflict, NotFound
from alerts.actions.visibility import visible_alert
from alerts.core.injects import inject_alert_id
from tests.alerts.actions.test_exercises import DUTY, EVAL, EXCON, HEADER, World


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def _msel(expected: str) -> bytes:
    return "\n".join([HEADER, f"1,0:01:00,EXCON,RS;HR;MK,natural_disaster,critical,Dam overflow on the Drina,"
                              f"43.9,19.3,{expected},OBJ-1,"]).encode()


def test_exs001_a_multi_nation_inject_is_acknowledged_and_scored_per_nation(world):
    centre = world.centre
    ex = exercises.load(centre, EXCON, _msel("acknowledge within 5m"), "DRINA")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    rs, hr = inject_alert_id(ex.id, 1, "RS"), inject_alert_id(ex.id, 1, "HR")
    assert visible_alert(centre, DUTY["RS"], rs).routing.releasable_to == ["RS"]
    with pytest.raises(NotFound):                       # each nation's copy is its own
        visible_alert(centre, DUTY["HR"], rs)
    world.advance(1)
    workflow.acknowledge(centre, DUTY["RS"], rs)
    world.advance(2)
    workflow.acknowledge(centre, DUTY["HR"], hr)        # not blocked by RS's acknowledgment
    world.advance(10)                                   # MK never acknowledges
    row = evaluation.evaluation(centre, EVAL, ex.id)["injects"][0]
    scores = {n: (s["outcome"], s["taken_s"]) for n, s in row["nations"].items()}
    assert scores == {"RS": ("met", 60), "HR": ("met", 180), "MK": ("missed", None)}
    assert row["alert_ids"] == {n: inject_alert_id(ex.id, 1, n) for n in ("RS", "HR", "MK")}


def test_exs002_evaluation_reads_only_startex_to_endex(world):
    centre = world.centre
    ex = exercises.load(centre, EXCON, _msel("acknowledge within 30m"), "WINDOW")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    world.advance(1)
    exercises.end(centre, EXCON, ex.id)
    with pytest.raises(Conflict):                       # after ENDEX: closed, and not play
        workflow.acknowledge(centre, DUTY["RS"], inject_alert_id(ex.id, 1, "RS"))
    ended = exercises.exercise(centre, EXCON, ex.id)
    low, high = ended.audit_window()
    assert low != "-" and high != "+"
    assert [e.action for e in centre.audit.read_range(low, high)][0] == "exercise.start"
    world.advance(40)
    row = evaluation.evaluation(centre, EVAL, ex.id)["injects"][0]
    assert row["nations"]["RS"]["outcome"] == "ended"          # play ended before the deadline: not a miss
