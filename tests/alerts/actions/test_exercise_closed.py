"""After ENDEX and after the real-world stop, play leaves nothing behind: real assets tasked to inject
alerts are released (audited), and a closed (expired) alert takes no workflow action or tasking (409)."""
from __future__ import annotations

import pytest

from alerts.actions import exercises, tasking, workflow
from alerts.actions.errors import Conflict
from alerts.core.assets import AssetStatus
from alerts.core.injects import inject_alert_id
from tests.alerts.actions.test_exercises import DUTY, EXCON, HEADER, World
from tests.conftest import make_asset

MSEL = "\n".join([HEADER, "1,0:01:00,EXCON,RS,hazmat,critical,Chlorine release,44.87,20.64,,OBJ-1,",
                  "2,0:01:00,EXCON,RS,hazmat,critical,Second release,44.8,20.6,,OBJ-1,"]).encode()


@pytest.fixture
def world(centre, client, keys, regions) -> World:
    return World(centre, client, keys, regions)


def _tasked(world, name):
    centre = world.centre
    centre.assets.put_many([make_asset(f"{name}-med", 44.8, 20.5), make_asset(f"{name}-med-2", 44.8, 20.5)])
    ex = exercises.load(centre, EXCON, MSEL, name)
    exercises.start(centre, EXCON, ex.id)
    world.advance(1)
    first = inject_alert_id(ex.id, 1, "RS")
    workflow.acknowledge(centre, DUTY["RS"], first)
    tasking.assign(centre, DUTY["RS"], first, f"{name}-med")
    return ex, first


@pytest.mark.parametrize("stop", ["endex", "stop_all"])
def test_clo001_endex_and_the_real_world_stop_release_real_assets(world, stop):
    centre = world.centre
    ex, first = _tasked(world, stop.upper())
    if stop == "endex":
        exercises.end(centre, EXCON, ex.id)
    else:
        exercises.stop_all(centre, EXCON, "real earthquake")
    asset = centre.assets.get(f"{stop.upper()}-med")
    assert (asset.status, asset.assigned_to) == (AssetStatus.READY, None)
    released = [e for e in centre.audit.read_all() if e.action == "asset.release"]
    assert [(e.object, e.detail.get("alert_id"), e.actor) for e in released] == [(asset.id, first, "excon")]


def test_clo002_a_closed_alert_takes_no_action_or_tasking(world):
    centre = world.centre
    ex, first = _tasked(world, "SHUT")
    second = inject_alert_id(ex.id, 2, "RS")
    exercises.end(centre, EXCON, ex.id)
    with pytest.raises(Conflict, match="expired"):
        tasking.assign(centre, DUTY["RS"], first, "SHUT-med-2")
    with pytest.raises(Conflict, match="expired"):
        workflow.acknowledge(centre, DUTY["RS"], second)
    with pytest.raises(Conflict, match="expired"):
        workflow.complete_step(centre, DUTY["RS"], first, 1)
    with pytest.raises(Conflict, match="expired"):
        workflow.resolve(centre, DUTY["RS"], first)
    assert centre.assets.get("SHUT-med-2").status is AssetStatus.READY
