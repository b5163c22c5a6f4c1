"""The after-action review on a real Redis with an injected clock: the figures equal the times the test made."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from alerts.actions import (
    aar,
    evaluation,
    exercises,
    replay,
    sharing,
    tasking,
    workflow,
)
from alerts.actions.errors import Forbidden, Invalid, NotFound
from alerts.actions.exercise_scheduler import ExerciseScheduler
from alerts.core.aar import Improvement
from alerts.core.injects import inject_alert_id
from alerts.core.viewer import Viewer
from alerts.formats import aar as aar_format
from alerts.store.audit import AuditLog
from alerts.store.exercises import ExerciseStore
from alerts.store.producer import send_to_stream
from tests.alerts.actions.test_replay import live, rebuilt, redis_now
from tests.alerts.actions.test_sharing import sync
from tests.conftest import (
    alert_pipeline,
    make_alert,
    make_asset,
    payload,
    stream_ingest,
)


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
    scheduler = ExerciseScheduler(centre)

    samples: list[tuple[datetime, dict]] = []

    def advance(minutes: float) -> None:
        """Move the clock, fire what is due, ingest it; then sample the live state (per nation) and when."""
        now[0] += timedelta(minutes=minutes)
        scheduler.check()
        while ingest.run_once(block_ms=1):  # until the inbox is drained
            continue
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
    assert aar.incident_report(centre, DUTY_RS, since, datetime.now(UTC) + timedelta(seconds=1))["alerts"] == []
    report = aar.incident_report(centre, DUTY_RS, since, datetime.now(UTC) + timedelta(seconds=1), True)
    # RS sees only its own copy of inject 1: not BA's copy, not inject 2
    assert [a["alert_id"] for a in report["alerts"]] == [inject_alert_id(ex.id, 1, "RS")]
    report = aar.incident_report(centre, DUTY_BA, since, datetime.now(UTC) + timedelta(seconds=1), True)
    by_id = {a["alert_id"]: a["nations"] for a in report["alerts"]}
    assert set(by_id) == {inject_alert_id(ex.id, 1, "BA"), inject_alert_id(ex.id, 2, "BA")}
    assert by_id[inject_alert_id(ex.id, 2, "BA")]["BA"]["acknowledge"] == 0


def test_aar003_an_incident_aar_counts_real_alerts_from_when_they_reached_the_viewer(world, client, keys):
    centre, advance, _ = world
    since = datetime.now(UTC) - timedelta(seconds=1)
    widened = make_alert(source="RS", releasable_to=["RS"], title="RS report shared later")
    drill = make_alert(source="BA", releasable_to=["BA"], exercise=True, title="Drill")
    send_to_stream(client, keys, [payload(widened), payload(drill)])
    advance(1)
    sharing.change_releasability(centre, DUTY_RS, widened["id"], ["RS", "BA"], "BA needs it")
    advance(2)
    workflow.acknowledge(centre, DUTY_BA, widened["id"])
    until = datetime.now(UTC) + timedelta(seconds=1)
    report = aar.incident_report(centre, DUTY_BA, since, until)
    assert [a["alert_id"] for a in report["alerts"]] == [widened["id"]]  # the drill left out
    assert report["alerts"][0]["nations"]["BA"]["acknowledge"] == 120  # from the widening, by the clock
    assert report["exercise_alerts"] == 1 and "EXERCISE" not in report["marking"]
    both = aar.incident_report(centre, DUTY_BA, since, until, include_exercise=True)
    assert {a["alert_id"] for a in both["alerts"]} == {widened["id"], drill["id"]} and "EXERCISE" in both["marking"]


def test_aar004_each_nation_sees_the_firing_of_its_own_copy_of_a_multi_nation_inject(world):
    centre, advance, _ = world
    ex = exercises.load(centre, EXCON, MSEL, "DRINA 26")
    exercises.start(centre, EXCON, ex.id)
    advance(1)  # inject 1 fires to RS and BA: one copy each

    def firings(viewer) -> list[str]:
        return [e.detail["alert_id"] for e in replay.timeline(centre, viewer, exercise_id=ex.id).events
                if e.kind == "exercise.inject_fire"]

    assert firings(DUTY_RS) == [inject_alert_id(ex.id, 1, "RS")]
    assert firings(DUTY_BA) == [inject_alert_id(ex.id, 1, "BA")]
    assert [set(f.split(",")) for f in firings(EXCON)] == [{inject_alert_id(ex.id, 1, n) for n in ("RS", "BA")}]


def test_aar005_an_improvement_due_date_must_be_a_plausible_one_by_the_centre_clock(world):
    centre, _, _ = world
    ex = exercises.load(centre, EXCON, MSEL, "DRINA 26")
    today = centre.clock().date()
    item = lambda due: Improvement(area="A", action="B", owner="C", due=due)  # noqa: E731
    for due in ("1900-01-01", "9999-12-31", (today - timedelta(days=400)).isoformat()):
        with pytest.raises(Invalid, match="due"):
            aar.plan(centre, EVAL, ex.id, item(due))
    assert aar.plan(centre, EVAL, ex.id, item((today + timedelta(days=90)).isoformat())).due > today
