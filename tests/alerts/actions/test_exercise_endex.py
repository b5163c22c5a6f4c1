"""At ENDEX play is over: the exercise's inject alerts are closed as expired at ENDEX and never escalate
again, also one that is ingested only after ENDEX."""
from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.actions import exercises
from alerts.actions.escalation import EscalationMonitor
from alerts.core.injects import inject_alert_id
from alerts.core.model import Status
from tests.alerts.actions.test_exercises import EXCON, HEADER, World


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


MSEL = "\n".join([HEADER, "1,0:01:00,EXCON,RS,hazmat,critical,Chlorine release,44.87,20.64,,OBJ-1,",
                  "2,0:02:00,EXCON,HR,hazmat,critical,Second release,45.8,16.0,,OBJ-1,"]).encode()


def test_end001_no_escalation_after_endex(world):
    centre = world.centre
    monitor = EscalationMonitor(centre.workflow, audit=centre.audit, clock=lambda: world.now)
    ex = exercises.load(centre, EXCON, MSEL, "ENDEX")
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    first = inject_alert_id(ex.id, 1, "RS")
    world.now += timedelta(minutes=1)
    world.scheduler.check()                          # inject 2 fires; ENDEX comes before it is ingested
    exercises.end(centre, EXCON, ex.id)
    endex = exercises.exercise(centre, EXCON, ex.id).endex
    world.advance(0)                                 # ingested after ENDEX; the scheduler closes it too
    world.advance(0)
    for alert_id in (first, inject_alert_id(ex.id, 2, "HR")):
        stored = centre.alerts.get(alert_id)
        assert (stored.status, stored.expires_at) == (Status.EXPIRED, endex)
    world.now += timedelta(hours=2)
    assert monitor.check() == []
    assert centre.workflow.state(first).escalation is None
