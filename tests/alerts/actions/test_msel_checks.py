"""A MSEL is checked at load against this deployment: a payload's classification must be one of its levels
and a ``step <n>`` must be a step of the inject's checklist, each problem named by row and column; training
records take a user name in any form accounts accept."""
from __future__ import annotations

import json

import pytest

from alerts.actions import evaluation, exercises, workflow
from alerts.actions.errors import Invalid
from alerts.core.injects import inject_alert_id
from tests.alerts.actions.test_exercises import DUTY, EXCON, HEADER, World

PAYLOAD = {"id": "p-1", "type": "hazmat", "severity": "high", "title": "Chlorine", "source": "EXCON",
           "location": {"lat": 44.8, "lon": 20.4}, "reported_at": "2026-01-01T00:00:00+00:00"}


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def _problems(centre, msel: bytes, payloads=None) -> set[tuple[int, str]]:
    with pytest.raises(Invalid) as caught:
        exercises.load(centre, EXCON, msel, "CHECKED", payloads=payloads)
    assert exercises.exercises(centre, EXCON) == []                      # nothing saved
    return {(p["row"], p["column"]) for p in caught.value.extra["problems"]}


def test_msc001_a_payload_classification_outside_the_deployment_is_refused_at_load(world):
    msel = "\n".join([HEADER + ",payload_file",
                      "1,0:01:00,EXCON,RS,other,low,Fine,44.0,20.0,,OBJ-1,,",
                      "2,0:02:00,EXCON,RS,hazmat,high,Marked,,,,OBJ-1,,chlorine.json"]).encode()
    payloads = {"chlorine.json": json.dumps({**PAYLOAD, "classification": "COSMIC TOP SECRET"})}
    assert _problems(world.centre, msel, payloads.__getitem__) == {(3, "payload_file")}
    payloads = {"chlorine.json": json.dumps({**PAYLOAD, "classification": "restricted"})}  # a level here: taken
    assert exercises.load(world.centre, EXCON, msel, "CHECKED", payloads=payloads.__getitem__).injects


def test_msc002_a_step_beyond_the_checklist_is_refused_at_load(world):
    msel = "\n".join([HEADER, "1,0:01:00,EXCON,RS,hazmat,high,Chlorine,44.0,20.0,step 1 within 5m,OBJ-1,",
                      "2,0:02:00,EXCON,RS,hazmat,high,Chlorine,44.0,20.0,acknowledge within 5m and step 99 "
                      "within 15m,OBJ-1,"]).encode()
    assert _problems(world.centre, msel) == {(3, "expected_action")}


def test_msc003_a_training_record_is_found_by_any_form_of_the_user_name(world):
    centre = world.centre
    msel = "\n".join([HEADER, "1,0:01:00,EXCON,RS,hazmat,high,Chlorine,44.0,20.0,acknowledge within 5m,OBJ-1,"])
    ex = exercises.load(centre, EXCON, msel.encode(), "NAMES")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    workflow.acknowledge(centre, DUTY["RS"], inject_alert_id(ex.id, 1, "RS"))
    own = evaluation.training(centre, DUTY["RS"], " Duty-RS ")
    assert own["user"] == "duty-rs" and [i["expected"] for i in own["exercises"][0]["injects"]] == ["met"]


def test_msc010_backups_that_could_never_fire_are_named_by_row_and_column(world):
    msel = "\n".join([HEADER, "1,0:01:00,EXCON,RS,other,low,No expectation,44.0,20.0,,OBJ-1,",
                      "2,0:02:00,EXCON,RS,other,low,Backup of 1,44.0,20.0,,OBJ-1,1",
                      "3,0:03:00,EXCON,RS,other,low,Circle A,44.0,20.0,acknowledge within 5m,OBJ-1,4",
                      "4,0:04:00,EXCON,RS,other,low,Circle B,44.0,20.0,acknowledge within 5m,OBJ-1,3"]).encode()
    assert _problems(world.centre, msel) == {(3, "backup_for"), (4, "backup_for"), (5, "backup_for")}


def test_msc011_row_and_deployment_problems_come_in_one_pass(world):
    msel = "\n".join([HEADER, "1,0:01,EXCON,RS,other,low,Bad offset,44.0,20.0,,OBJ-1,",
                      "2,0:02:00,EXCON,RS,hazmat,high,Step too far,44.0,20.0,step 99 within 5m,OBJ-1,"]).encode()
    assert _problems(world.centre, msel) == {(2, "offset"), (3, "expected_action")}


@pytest.mark.parametrize("name", ["EX\u202eESICREXE", "TWO\nLINES", "NUL\x00", "\u200b"])
def test_msc012_a_bad_name_is_refused_on_its_own(world, name):
    msel = "\n".join([HEADER, "1,0:01:00,EXCON,RS,other,low,Fine,44.0,20.0,,OBJ-1,"]).encode()
    with pytest.raises(Invalid) as caught:
        exercises.load(world.centre, EXCON, msel, name)
    assert str(caught.value).startswith("name: ")
    assert [(p["row"], p["column"]) for p in caught.value.extra["problems"]] == [(0, "name")]
    assert exercises.exercises(world.centre, EXCON) == []
