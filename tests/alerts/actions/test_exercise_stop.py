"""The real-world stop: it halts what is in play (planned exercises stay planned), and every page, of every
nation, announces it once, however many exercises it ended."""
from __future__ import annotations

import pytest

from alerts.actions import exercises
from alerts.actions.band import notices
from alerts.core.exercises import ExerciseState
from tests.alerts.actions.test_exercises import DUTY, EXCON, HEADER, World, person


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def _msel(to: str) -> bytes:
    return "\n".join([HEADER, f"1,1:00:00,EXCON,{to},other,low,Routine,44.0,20.0,,OBJ-1,"]).encode()


def test_stp001_stop_all_halts_play_once_for_every_page(world):
    centre = world.centre
    drina = exercises.load(centre, EXCON, _msel("RS;HR"), "DRINA")
    vardar = exercises.load(centre, EXCON, _msel("MK"), "VARDAR")
    later = exercises.load(centre, EXCON, _msel("RS"), "LATER")
    exercises.start(centre, EXCON, drina.id)
    exercises.start(centre, EXCON, vardar.id)
    exercises.pause(centre, EXCON, vardar.id)

    stopped = exercises.stop_all(centre, EXCON, "M6.4 earthquake near Skopje")
    assert sorted(e.id for e in stopped) == sorted([drina.id, vardar.id])
    assert exercises.exercise(centre, EXCON, later.id).state is ExerciseState.PLANNED

    reason = "REAL-WORLD STOP: M6.4 earthquake near Skopje"
    control = notices(centre, EXCON)
    assert len(control) == 1 and control[0]["text"].count(reason) == 1
    assert "DRINA" in control[0]["text"] and "VARDAR" in control[0]["text"]
    (rs,) = notices(centre, DUTY["RS"])
    assert rs["kind"] == "stopped" and "DRINA" in rs["text"] and "VARDAR" not in rs["text"]
    outsider = person("duty-gr", "duty_officer", "GR")                  # plays in nothing: still told
    (gr,) = notices(centre, outsider)
    assert gr["text"].startswith("EXERCISE PLAY STOPPED") and gr["text"].endswith(reason)
    assert "DRINA" not in gr["text"] and gr["id"] == ""
    assert gr["names"] == [] and gr["reason"] == "M6.4 earthquake near Skopje"      # the parts a page words
    assert rs["names"] == ["DRINA"] and rs["at"] == f"{exercises.exercise(centre, EXCON, drina.id).endex:%H:%M}"
