"""Expected actions run on the play clock: a backup goes only to the nations that missed, pauses stop the
clocks, ENDEX makes outcomes final (``ended``, never a miss), and ``speed`` scales the ``within`` windows."""
from __future__ import annotations

import pytest

from alerts.actions import evaluation, exercises, workflow
from alerts.core.exercises import InjectState
from alerts.core.injects import inject_alert_id
from tests.alerts.actions.test_exercises import DUTY, EVAL, EXCON, HEADER, World


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def _msel(to: str, expected: str = "acknowledge within 5m", offset: str = "0:01:00") -> bytes:
    return "\n".join([HEADER, f"1,{offset},EXCON,{to},hazmat,critical,Chlorine release,44.0,20.0,{expected},OBJ-1,",
                      f"2,1:00:00,EXCON,{to},hazmat,critical,Second report,44.0,20.0,,OBJ-1,1"]).encode()


def _row(centre, ex_id: str, number: int = 1) -> dict:
    return evaluation.evaluation(centre, EVAL, ex_id)["injects"][number - 1]


def test_clk001_a_backup_goes_only_to_the_nations_that_missed(world):
    centre = world.centre
    ex = exercises.load(centre, EXCON, _msel("RS;HR"), "SPLIT")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    workflow.acknowledge(centre, DUTY["RS"], inject_alert_id(ex.id, 1, "RS"))
    assert [n for _, n in world.advance(5.5)] == [2]
    world.advance(0)
    assert centre.alerts.get(inject_alert_id(ex.id, 2, "HR")) is not None
    assert centre.alerts.get(inject_alert_id(ex.id, 2, "RS")) is None          # RS met it: no backup
    backup = _row(centre, ex.id, 2)
    assert backup["alert_ids"] == {"HR": inject_alert_id(ex.id, 2, "HR")}


def test_clk002_a_pause_stops_expected_action_clocks(world):
    centre = world.centre
    ex = exercises.load(centre, EXCON, _msel("MK"), "HOLD")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)                                      # inject 1 fires; 5 minutes to acknowledge
    world.advance(2)
    exercises.pause(centre, EXCON, ex.id)
    world.advance(30)
    assert _row(centre, ex.id)["nations"]["MK"]["outcome"] == "pending"
    exercises.resume(centre, EXCON, ex.id)
    assert world.advance(2.5) == []                       # 4.5 minutes of play: no backup
    assert _row(centre, ex.id)["nations"]["MK"]["outcome"] == "pending"
    workflow.acknowledge(centre, DUTY["MK"], inject_alert_id(ex.id, 1, "MK"))
    assert world.advance(10) == []
    score = _row(centre, ex.id)["nations"]["MK"]
    assert (score["outcome"], score["taken_s"]) == ("met", 270)
    assert exercises.exercise(centre, EXCON, ex.id).inject_state(2) is InjectState.STANDBY


@pytest.mark.parametrize("stop", ["endex", "stop_all"])
def test_clk003_endex_makes_pending_actions_final_as_ended(world, stop):
    centre = world.centre
    ex = exercises.load(centre, EXCON, _msel("RS", "acknowledge within 30m"), "CUT")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    world.advance(2)
    if stop == "endex":
        exercises.end(centre, EXCON, ex.id)
    else:
        exercises.stop_all(centre, EXCON, "real flood")
    assert _row(centre, ex.id)["nations"]["RS"]["outcome"] == "ended"
    world.advance(60)
    row = _row(centre, ex.id)
    assert row["nations"]["RS"]["outcome"] == "ended" and row["nations"]["RS"]["clauses"][0]["outcome"] == "ended"
    assert exercises.exercise(centre, EXCON, ex.id).inject_state(2) is InjectState.EXPIRED


def test_clk004_speed_scales_within_windows(world):
    centre = world.centre
    ex = exercises.load(centre, EXCON, _msel("RS;HR", "acknowledge within 15m", "0:15:00"), "FAST", speed=15)
    exercises.start(centre, EXCON, ex.id)
    assert [n for _, n in world.advance(1)] == [1]        # 15 minutes of play in one wall-clock minute
    world.advance(0.5)
    workflow.acknowledge(centre, DUTY["RS"], inject_alert_id(ex.id, 1, "RS"))
    world.advance(0.4)
    row = _row(centre, ex.id)
    assert row["nations"]["RS"] == {**row["nations"]["RS"], "outcome": "met", "taken_s": 450}
    assert row["nations"]["HR"]["outcome"] == "pending"
    assert [n for _, n in world.advance(0.2)] == [2]       # HR's 15 play minutes (1 wall minute) are up
    assert _row(centre, ex.id)["nations"]["HR"]["outcome"] == "missed"
