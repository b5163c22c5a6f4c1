"""A joint exercise end to end on a real Redis, with an injected clock: a 21-inject MSEL for three nations is
loaded, started, paused, fired, skipped and stopped; injects go through the inbox stream and the real ingest
pipeline, reach only their ``to`` nations, and the evaluation scores what the players did."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from alerts.actions import evaluation, exercises, tasking, workflow
from alerts.actions.errors import Conflict, Forbidden, Invalid, NotFound
from alerts.actions.exercise_scheduler import ExerciseScheduler
from alerts.actions.visibility import visible_alert
from alerts.core.exercises import ExerciseState, InjectState
from alerts.core.injects import inject_alert_id
from alerts.core.viewer import Viewer
from alerts.store.audit import AuditLog
from alerts.store.exercises import ExerciseStore
from alerts.store.lease import Lease
from tests.alerts.actions.test_sharing import sync
from tests.conftest import alert_pipeline, make_asset, stream_ingest

M = timedelta(minutes=1)
NATIONS = ("RS", "HR", "MK")


def person(name: str, role: str, nation: str | None) -> Viewer:
    return Viewer(name, role, nation, via="session", clearance="SECRET")


EXCON = person("excon", "exercise_control", None)
EVAL = person("eval-hr", "evaluator", "HR")
DUTY = {n: person(f"duty-{n.lower()}", "duty_officer", n) for n in NATIONS}
LEAD_RS = person("lead-rs", "leadership", "RS")
PLAYERS = {v.name: v.nation for v in (*DUTY.values(), LEAD_RS, EVAL)}

HEADER = "inject,offset,from,to,type,severity,title,lat,lon,expected_action,objective,backup_for"


def msel() -> bytes:
    """21 injects: 1-3 one per nation at 5/10/15 min; 4 acknowledged (RS) in time; 5 tasked (HR); 6 ignored
    (MK) with backup 7; 8-20 spread over later hours; 21 for all three nations."""
    rows = [
        "1,0:05:00,EXCON,RS,natural_disaster,critical,Earthquake felt in Kraljevo,43.72,20.69,,OBJ-1,",
        "2,0:10:00,EXCON,HR,natural_disaster,high,Aftershock near Zagreb,45.81,15.98,,OBJ-1,",
        "3,0:15:00,EXCON,MK,hazmat,high,Chlorine smell in Skopje,41.99,21.43,,OBJ-2,",
        "4,0:20:00,EXCON,RS,mass_casualty,high,Building collapse in Kraljevo,43.72,20.69,acknowledge within 5m,OBJ-1,",
        "5,0:20:00,EXCON,HR,mass_casualty,high,Bus crash on the A1,45.5,15.6,acknowledge within 5m and assign "
        "medical_team within 15m,OBJ-3,",
        "6,0:25:00,EXCON,MK,hazmat,critical,Chlorine release at the border,41.3,22.5,acknowledge within 5m,OBJ-2,",
        "7,0:40:00,EXCON,MK,hazmat,critical,Second report: chlorine cloud moving south,41.2,22.5,,OBJ-2,6",
    ]
    rows += [f"{n},{1 + n // 4}:{(n * 7) % 60:02d}:00,EXCON,{NATIONS[n % 3]},other,low,Routine inject {n},44.0,20.0,,OBJ-4,"
             for n in range(8, 21)]
    rows.append("21,9:00:00,EXCON,RS;HR;MK,natural_disaster,critical,Dam overflow on the Drina,43.9,19.3,,OBJ-1,")
    return "\n".join([HEADER, *rows]).encode()


class World:
    """The centre, its clock and ingest: ``advance`` moves the clock, runs the scheduler, ingests."""

    def __init__(self, centre, client, keys, regions):
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.centre = centre
        centre.clock = lambda: self.now
        centre.audit = AuditLog(client, keys, clock=lambda: self.now)
        centre.exercises = ExerciseStore(client, keys)
        centre.nation_of = PLAYERS.get
        pipeline = alert_pipeline(client, keys, regions, store=centre.alerts, clock=lambda: self.now,
                                  on_recorded=centre.workflow.open_checklists)
        self.ingest = stream_ingest(pipeline, block_ms=1)
        self.ingest.ensure_group()
        self.scheduler = ExerciseScheduler(centre)

    def advance(self, minutes: float = 0) -> list[tuple[str, int]]:
        self.now += timedelta(minutes=minutes)
        fired = self.scheduler.check()
        handled = self.ingest.run_once(block_ms=1)
        while handled:  # drain the inbox: every fired inject through the real pipeline
            handled = self.ingest.run_once(block_ms=1)
        sync(self.centre)
        return fired


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def fired_numbers(fired) -> list[int]:
    return [n for _, n in fired]


def test_exe001_a_msel_runs_on_the_live_path_and_is_scored(world, client, keys):
    centre = world.centre
    ex = exercises.load(centre, EXCON, msel(), "SEISMIC SHIELD 26")
    assert ex.state is ExerciseState.PLANNED and len(ex.injects) == 21 and ex.nations == NATIONS
    with pytest.raises(Forbidden):
        exercises.start(centre, DUTY["RS"], ex.id)
    assert [e.id for e in exercises.running(centre, DUTY["RS"])] == []
    exercises.start(centre, EXCON, ex.id)
    assert [e.name for e in exercises.running(centre, DUTY["MK"])] == ["SEISMIC SHIELD 26"]

    assert world.advance(4) == []
    inbox_before = client.xlen(keys.inbox)
    assert fired_numbers(world.advance(1)) == [1]                        # on time: STARTEX + 0:05:00
    assert client.xlen(keys.inbox) == inbox_before + 1                   # through the inbox stream
    first = visible_alert(centre, DUTY["RS"], inject_alert_id(ex.id, 1, "RS"))
    assert (first.alert.exercise, first.alert.exercise_id, first.alert.inject, first.routing.releasable_to) == (
        True, ex.id, 1, ["RS"])
    assert "EXERCISE SEISMIC SHIELD 26" in first.alert.description
    for other in ("HR", "MK"):                                            # only its to nations see it
        with pytest.raises(NotFound):
            visible_alert(centre, DUTY[other], first.id)
    assert centre.workflow.state(first.id) is not None                   # checklisted like real traffic

    # pause at 0:07 for 30 minutes: inject 2 (due 0:10) moves to 0:40 exactly; no burst on resume
    world.advance(2)
    exercises.pause(centre, EXCON, ex.id)
    assert world.advance(30) == []
    exercises.resume(centre, EXCON, ex.id)
    assert world.advance(0) == []
    assert exercises.exercise(centre, EXCON, ex.id).due_at(2, world.now) == world.now + 3 * M
    assert world.advance(2) == [] and fired_numbers(world.advance(1)) == [2]

    # fire now and skip
    exercises.fire_now(centre, EXCON, ex.id, 3)
    exercises.skip(centre, EXCON, ex.id, 8)
    world.advance(0)
    visible_alert(centre, DUTY["MK"], inject_alert_id(ex.id, 3, "MK"))
    with pytest.raises(Conflict):
        exercises.fire_now(centre, EXCON, ex.id, 3)

    # injects 4, 5 (due 0:20 + the 30-minute pause) and 6 (0:55): RS acknowledges 4 in time, HR
    # acknowledges and tasks 5, MK ignores 6
    centre.assets.put_many([make_asset("hr-med-1", 45.5, 15.7, nation="HR")])
    assert fired_numbers(world.advance(10)) == [4, 5]
    world.advance(2)
    workflow.acknowledge(centre, DUTY["RS"], inject_alert_id(ex.id, 4, "RS"))
    workflow.acknowledge(centre, DUTY["HR"], inject_alert_id(ex.id, 5, "HR"))
    assert fired_numbers(world.advance(3)) == [6]
    tasking.assign(centre, DUTY["HR"], inject_alert_id(ex.id, 5, "HR"), "hr-med-1")
    state = exercises.exercise(centre, EXCON, ex.id)
    assert state.inject_state(7) is InjectState.STANDBY
    fired = world.advance(5.5)                                            # 6's deadline passes unacknowledged
    assert 7 in fired_numbers(fired)                                      # its backup fires at once
    visible_alert(centre, DUTY["MK"], inject_alert_id(ex.id, 7, "MK"))

    table = {row["inject"]: row for row in evaluation.evaluation(centre, EVAL, ex.id)["injects"]}
    assert table[4]["nations"]["RS"]["outcome"] == "met" and table[4]["nations"]["RS"]["taken_s"] == 120
    assert table[5]["nations"]["HR"]["outcome"] == "met" and table[5]["nations"]["HR"]["taken_s"] == 300
    assert table[6]["nations"]["MK"]["outcome"] == "missed"
    assert table[7]["state"] == "fired" and table[8]["state"] == "skipped" and table[1]["nations"]["RS"] is None
    with pytest.raises(Forbidden):
        evaluation.evaluation(centre, DUTY["HR"], ex.id)

    # the real-world stop halts it: nothing fires afterwards, the reason is there for every page
    exercises.stop_all(centre, EXCON, "M6.4 earthquake near Skopje (real)")
    stopped = exercises.exercise(centre, DUTY["MK"], ex.id)
    assert stopped.state is ExerciseState.ENDED and "REAL-WORLD STOP" in stopped.end_reason
    assert world.advance(600) == []
    assert stopped.inject_state(21) is InjectState.EXPIRED

    record = evaluation.training(centre, DUTY["HR"], "duty-hr")
    assert [(i["inject"], i["expected"]) for i in record["exercises"][0]["injects"]] == [(5, "met")]
    assert evaluation.training(centre, LEAD_RS, "duty-rs")["exercises"][0]["met"] == 1
    with pytest.raises(Forbidden):
        evaluation.training(centre, LEAD_RS, "duty-hr")                   # another nation's user
    actions = [e.action for e in centre.audit.read_all() if e.object == ex.id]
    assert actions[:3] == ["exercise.load", "exercise.start", "exercise.inject_fire"]
    assert {"exercise.pause", "exercise.resume", "exercise.inject_skip", "exercise.end"} <= set(actions)


def test_exe002_two_schedulers_racing_fire_each_inject_exactly_once(world, centre, client, keys):
    """Two processes' passes at the same moment (threads here, each with its own Redis round trips): the lease
    is bypassed (``tick`` directly), so only the one-script firing keeps injects from repeating."""
    import threading

    from alerts.actions.evaluation import missed_by

    ex = exercises.load(centre, EXCON, msel(), "TWIN")
    exercises.start(centre, EXCON, ex.id)
    world.now += timedelta(hours=10)
    results: list = []
    start = threading.Barrier(2)

    def run():
        start.wait()
        for _ in range(5):
            results.extend(exercises.tick(centre, missed_by(centre)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = sorted(i.number for i in ex.injects if i.backup_for is None)
    assert sorted(fired_numbers(results)) == expected
    sent = [json.loads(fields[b"payload"]) for _, fields in client.xrange(keys.inbox)]
    copies = sorted((d["inject"], *d["releasable_to"]) for d in sent)   # one copy per to nation, once
    assert copies == sorted((i.number, n) for i in ex.injects if i.backup_for is None for n in i.to)
    lease_a, lease_b = (Lease(client, keys.lease("exercises"), keys.fencing("exercises"), ttl_ms=5000) for _ in "ab")
    assert ExerciseScheduler(centre, lease=lease_a).check() == [] and ExerciseScheduler(centre, lease=lease_b).check() == []
    assert lease_a.current() is not None and lease_b.current() is None  # one scheduler holds it


def test_exe003_a_bad_msel_is_refused_naming_rows_and_saves_nothing(world, centre):
    bad = msel().replace(b"3,0:15:00,EXCON,MK", b"3,0:15,EXCON,MKD")
    with pytest.raises(Invalid) as caught:
        exercises.load(centre, EXCON, bad, "BROKEN")
    assert {(p["row"], p["column"]) for p in caught.value.extra["problems"]} == {(4, "offset"), (4, "to")}
    assert exercises.exercises(centre, EXCON) == []


def test_exe004_an_inject_cannot_be_released_to_a_nation_that_does_not_play(world, centre):
    from alerts.actions import sharing

    ex = exercises.load(centre, EXCON, msel(), "CLOSED")
    exercises.start(centre, EXCON, ex.id)
    world.advance(5)
    with pytest.raises(Conflict, match="does not play|do not play"):
        sharing.change_releasability(centre, DUTY["RS"], inject_alert_id(ex.id, 1, "RS"), ["RS", "MK", "AL"], "widen")


def test_exe005_a_scheduler_whose_lease_was_taken_fires_nothing(world, centre, client, keys):
    from alerts.actions.evaluation import missed_by
    from alerts.store.lease import StaleFence

    ex = exercises.load(centre, EXCON, msel(), "FENCED")
    exercises.start(centre, EXCON, ex.id)
    world.now += timedelta(minutes=6)  # inject 1 is due
    stale, successor = (Lease(client, keys.lease("exercises"), keys.fencing("exercises"), ttl_ms=60_000)
                        for _ in "ab")
    fence = stale.hold()
    client.delete(keys.lease("exercises"))  # as when it expires (a paused holder)
    assert successor.hold().number == fence.number + 1
    inbox_before = client.xlen(keys.inbox)
    with pytest.raises(StaleFence):
        exercises.tick(centre, missed_by(centre), fence)
    assert client.xlen(keys.inbox) == inbox_before and exercises.exercise(centre, EXCON, ex.id).fired == {}
    assert fired_numbers(exercises.tick(centre, missed_by(centre), successor.current())) == [1]
