"""The critical alarm's rule and summary (``alerts.core.alarm``) and its reading per viewer from the read model."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from alerts.actions.alarm import alarm_for
from alerts.core.alarm import NEWEST, alarm_of, alarms
from alerts.core.model import Status
from alerts.core.query import AlertQuery
from tests.alerts.core.test_index_query import T0, index_of, stored


def test_alm001_only_critical_alerts_nobody_acknowledged_alarm():
    assert alarms(stored("a", severity="critical"))
    assert not alarms(stored("b", severity="high"))
    for status in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.CANCELLED, Status.EXPIRED):
        assert not alarms(stored("c", severity="critical", status=status)), status


def test_alm002_the_count_and_the_newest_few_and_exercise_said_so():
    alerts = [stored(f"a{i}", severity="critical", reported_at=T0 + timedelta(minutes=i), exercise=i % 2 == 0,
                     title=f"Alert {i}") for i in range(6)] + [stored("h", severity="high")]
    alarm = alarm_of(alerts)
    assert (alarm.count, alarm.exercise, len(alarm.newest)) == (6, 3, NEWEST)
    assert [a.id for a in alarm.newest] == ["a5", "a4", "a3"]  # most recently reported first
    assert alarm.headline == "6 critical alerts (3 EXERCISE) awaiting acknowledgment" and not alarm.exercise_only
    drill = alarm_of([stored("x", severity="critical", exercise=True)])
    assert drill.exercise_only and drill.headline == "1 critical EXERCISE alert awaiting acknowledgment"
    assert alarm_of([]).headline == "No critical alert awaiting acknowledgment"


def test_alm003_a_viewer_is_alarmed_only_by_what_is_released_to_it():
    index = index_of(stored("rs", severity="critical", releasable_to=["RS"]),
                     stored("hr", severity="critical", releasable_to=["HR"]),
                     stored("all", severity="critical", releasable_to=["ALL"]))
    centre = SimpleNamespace(index=index)
    seen = alarm_for(centre, AlertQuery(nation="RS", cleared=None), newest=5)
    assert {a.id for a in seen.newest} == {"rs", "all"} and seen.count == 2
    assert alarm_for(centre, AlertQuery(nation="HR", severities=frozenset({"low"}))).count == 2  # filters ignored
