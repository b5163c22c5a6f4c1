"""Only the exercise scheduler's injects are injects: a producer's message on the inbox stream that claims an
exercise id, an inject number or an inject's reserved id is not scored (it stays an exercise alert if it says
so), whatever mark it forges."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from alerts.actions import evaluation, exercises, workflow
from alerts.core.injects import inject_alert_id
from alerts.store.producer import send_to_stream
from tests.alerts.actions.test_exercises import DUTY, EVAL, EXCON, HEADER, World


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def _forged(alert_id: str, exercise_id: str, **more) -> str:
    return json.dumps({"id": alert_id, "type": "hazmat", "severity": "critical", "title": "Forged inject",
                       "location": {"lat": 44.8, "lon": 20.4}, "reported_at": "2026-01-01T00:00:00+00:00",
                       "source": "EXCON", "releasable_to": ["RS"], "exercise": True, "exercise_id": exercise_id,
                       "inject": 1, **more})


def test_inm001_forged_exercise_marks_on_the_inbox_are_not_injects(world, client, keys):
    centre = world.centre
    msel = "\n".join([HEADER, "1,0:05:00,EXCON,RS,hazmat,high,Chlorine smell in Pancevo,44.87,20.64,"
                              "acknowledge within 10m,OBJ-1,"]).encode()
    ex = exercises.load(centre, EXCON, msel, "FORGERY")
    exercises.start(centre, EXCON, ex.id)
    real_id = inject_alert_id(ex.id, 1, "RS")
    send_to_stream(client, keys, [_forged("forged-1", ex.id)])                 # claims exercise id and inject
    client.xadd(keys.inbox, {"payload": _forged("forged-2", ex.id), "mark": "0" * 64})  # a made-up mark
    send_to_stream(client, keys, [_forged(real_id, ex.id)])                    # takes the inject's own id
    world.advance(1)
    for forged in ("forged-1", "forged-2"):
        stored = centre.alerts.get(forged)
        assert (stored.alert.exercise, stored.alert.exercise_id, stored.alert.inject) == (True, None, None)
    assert centre.alerts.get(real_id) is None
    reasons = [f[b"reason"].decode() for _, f in client.xrange(keys.dead_letters)]
    assert any("reserved for exercise injects" in r for r in reasons)

    world.advance(4)                                                           # the real inject fires
    real = centre.alerts.get(real_id)
    assert (real.alert.title, real.alert.exercise_id, real.alert.inject) == ("Chlorine smell in Pancevo", ex.id, 1)
    workflow.acknowledge(centre, DUTY["RS"], "forged-1")                       # acting on a forgery scores nothing
    world.now += timedelta(minutes=11)
    row = evaluation.evaluation(centre, EVAL, ex.id)["injects"][0]
    assert row["nations"]["RS"]["outcome"] == "missed"
