"""The after-action review on a real Redis with an injected clock: the figures equal the times the test made."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from alerts.actions import aar, evaluation, exercises, replay, tasking, workflow
from alerts.actions.errors import Forbidden, NotFound
from alerts.actions.exercise_scheduler import ExerciseScheduler
from alerts.core.aar import Improvement
from alerts.core.injects import inject_alert_id
from alerts.core.viewer import Viewer
from alerts.formats import aar as aar_format
from alerts.store.audit import AuditLog
from alerts.store.exercises import ExerciseStore
from tests.alerts.actions.test_replay import live, rebuilt, redis_now
from tests.alerts.actions.test_sharing import sync
from tests.conftest import alert_pipeline, make_asset, stream_ingest


def person(name: str, role: str, nation: str | None) -> Viewer:
    return Viewer(name, role, nation, via="session", clearance="SECRET")


EXCON = person("excon", "exercise_control", None)
EVAL = person("eval", "evaluator", "GR")
DUTY_RS, DUTY_BA = person("duty-rs", "duty_officer", "RS"), person("duty-ba", "duty_officer", "BA")
MSEL = "\n".join([
    "inject,offset,from,to,type,severity,title,lat,lon,expected_action,objective,backup_for",
    "1,0:01:00,EXCON,RS;BA,natural_disaster,critical,Flood on the Drina,44.2,19.3,acknowledge within 5m,OBJ-A,",
    "2,0:02:00,EXCON,BA,hazmat,high,Chlorine leak in Zvornik,44.4,19.1,acknowledge within 5m,OBJ-B,",
]).encode()


@pytest.fixture
def world(centre, client, keys, regions):
    now = [datetime.now(UTC).replace(microsecond=0)]
    centre.clock = lambda: now[0]
    centre.audit = AuditLog(client, keys, clock=lambda: now[0])
    centre.exercises = ExerciseStore(client, keys)
    centre.nation_of = {"duty-rs": "RS", "duty-ba": "BA"}.get
    ingest = stream_ingest(alert_pipeline(client, keys, regions, store=centre.alerts, clock=lambda: now[0],
                                          on_recorded=centre.workflow.open_checklists), block_ms=1)
    ingest.ensure_group()
    scheduler = ExerciseScheduler(centre, holder="test")

    samples: list[tuple[datetime, dict]] = []

    def advance(minutes: float) -> None:
        """Move the clock, fire what is due, ingest it; then sample the live state (per nation) and when."""
        now[0] += timedelta(minutes=minutes)
        scheduler.check()
        while ingest.run_once(block_ms=1):
            pass
        sync(centre)
        samples.append((redis_now(client), {v.nation: live(centre, v)[0] for v in (DUTY_RS, DUTY_BA)}))

    return centre, advance, samples


def test_aar001_an_exercise_aar_gives_the_times_the_players_took_per_inject_and_nation(world):
    centre, advance, samples = world
    ex = exercises.load(centre, EXCON, MSEL, "DRINA 26")
    centre.assets.put(make_asset("ba-med", 44.3, 19.2, nation="BA"))
    exercises.start(centre, EXCON, ex.id)
    advance(1)                                                    # inject 1 fires at STARTEX + 1 min
    # each nation plays its own copy of inject 1
    first, first_ba, second = (inject_alert_id(ex.id, 1, "RS"), inject_alert_id(ex.id, 1, "BA"),
                               inject_alert_id(ex.id, 2, "BA"))
    advance(1)                                                    # +1 min: inject 2 fires
    advance(1)
    workflow.acknowledge(centre, DUTY_RS, first)                  # RS: 2 min after inject 1
    advance(0)
    advance(1)
    workflow.acknowledge(centre, DUTY_BA, first_ba)               # BA: 3 min after inject 1
    workflow.complete_step(centre, DUTY_BA, first_ba, 1)          # BA: first step 3 min after inject 1
    advance(1)
    tasking.assign(centre, DUTY_BA, first_ba, "ba-med")           # BA: tasked 4 min after inject 1
    advance(5)
    workflow.acknowledge(centre, DUTY_BA, second)                 # BA: 8 min after inject 2, late
    advance(0)
    advance(1)
    workflow.resolve(centre, DUTY_RS, first, "water receding")    # RS: resolved 10 min after inject 1
    advance(0)
    assert len(samples) == 10  # the live state per nation at ten moments of play equals the state rebuilt then
    for at, seen in samples:
        for viewer in (DUTY_RS, DUTY_BA):
            assert rebuilt(centre, viewer, at)[0] == seen[viewer.nation], (at, viewer.nation)
    assert second not in samples[-1][1]["RS"] and samples[-1][1]["RS"][first] == "resolved"
    evaluation.observe(centre, EVAL, ex.id, 1, "RS acknowledged at once", "P")
    evaluation.observe(centre, EVAL, ex.id, 2, "=1+1 BA <script>alert(1)</script> missed the deadline", "M")
    aar.rate(centre, EVAL, ex.id, 1, "S", "one nation slow")
    item = aar.plan(centre, EVAL, ex.id, Improvement(area="Late acknowledgment in BA", action="Second watch desk",
                                                      owner="BA MoS", due="2027-03-01"))
    exercises.end(centre, EXCON, ex.id)

    report = aar.exercise_report(centre, EVAL, ex.id)
    one, two = report["injects"]
    assert one["nations"]["RS"] == {"acknowledge": 120, "first_step": None, "assign": None, "resolve": 600,
                                    "expected": "met"}
    assert one["nations"]["BA"] == {"acknowledge": 180, "first_step": 180, "assign": 240, "resolve": None,
                                    "expected": "met"}
    assert two["nations"]["BA"]["acknowledge"] == 480 and two["nations"]["BA"]["expected"] == "missed"
    assert report["summary"]["BA"]["acknowledge"]["n"] == 2 and report["summary"]["BA"]["acknowledge"]["median"] == 330
    assert report["summary"]["RS"]["resolve"] == {"n": 1, "median": 600, "p90": 600}
    assert report["objectives"][0]["rating"]["rating"] == "S" and report["objectives"][0]["evidence"] == {
        "injects": [1], "met": 2, "missed": 0, "pending": 0, "ended": 0}
    assert [o["inject"] for o in report["strengths"]] == [1]
    assert [o["inject"] for o in report["areas_for_improvement"]] == [2]
    assert report["improvements"][0]["id"] == item.id and report["marking"].endswith("EXERCISE")

    md, page = aar_format.markdown(report), aar_format.html(report)
    assert "| 1 | Flood on the Drina | RS | 120 | - | - | 600 | met |" in md
    assert "Second watch desk" in md and "EXERCISE" in md.splitlines()[0]
    assert "<script>" not in page and "&lt;script&gt;" in page and "<td>480</td>" in page
    sheet = openpyxl.load_workbook(io.BytesIO(aar_format.xlsx(report))).active
    cells = {c.value: c for row in sheet.iter_rows() for c in row if c.value is not None}
    assert cells["=1+1 BA <script>alert(1)</script> missed the deadline"].data_type == "s"  # text, not a formula
    assert "Second watch desk" in cells and cells[480].data_type == "n"

    with pytest.raises(Forbidden):
        aar.exercise_report(centre, DUTY_RS, ex.id)
    with pytest.raises(NotFound):
        aar.rate(centre, EVAL, ex.id, 9, "P")
    # the exercise's timeline: control, injects and play, in order; BA never sees the RS-only evaluation
    kinds = [e.kind for e in replay.timeline(centre, DUTY_BA, exercise_id=ex.id).events]
    assert kinds.index("exercise.start") < kinds.index("alert.created") < kinds.index("alert.acknowledge")
    assert "exercise.observe" not in kinds
    observed = [e for e in replay.timeline(centre, EVAL, exercise_id=ex.id).events if e.kind == "exercise.observe"]
    assert [(e.actor, e.detail["inject"], e.detail["rating"], e.detail["text"]) for e in observed][0] == (
        "eval", 1, "P", "RS acknowledged at once")


def test_aar002_an_incident_aar_times_each_visible_alert_from_its_arrival(world):
    centre, advance, _ = world
    ex = exercises.load(centre, EXCON, MSEL, "DRINA 26")
    exercises.start(centre, EXCON, ex.id)
    since = datetime.now(UTC) - timedelta(seconds=1)
    advance(2)
    workflow.acknowledge(centre, DUTY_BA, inject_alert_id(ex.id, 2, "BA"))
    report = aar.incident_report(centre, DUTY_RS, since, datetime.now(UTC) + timedelta(seconds=1))
    # RS sees only its own copy of inject 1: not BA's copy, not inject 2
    assert [a["alert_id"] for a in report["alerts"]] == [inject_alert_id(ex.id, 1, "RS")]
    report = aar.incident_report(centre, DUTY_BA, since, datetime.now(UTC) + timedelta(seconds=1))
    by_id = {a["alert_id"]: a["nations"] for a in report["alerts"]}
    assert set(by_id) == {inject_alert_id(ex.id, 1, "BA"), inject_alert_id(ex.id, 2, "BA")}
    assert by_id[inject_alert_id(ex.id, 2, "BA")]["BA"]["acknowledge"] == 0
