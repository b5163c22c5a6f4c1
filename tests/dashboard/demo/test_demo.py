"""The live demo's scenario goes through the real pipeline: marked alerts routed, one emergency unrouted."""
from __future__ import annotations

from datetime import UTC, datetime

from dashboard.demo.alerts import MARKINGS, SCENARIO, scenario_payloads
from tests.conftest import alert_pipeline


def test_dem001_every_scenario_message_is_accepted_and_routed_as_designed(client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions)
    result = pipeline.process([("demo", raw) for _, raw in scenario_payloads(7, datetime.now(UTC))])
    assert not result.dead and len(result.accepted) == len(SCENARIO) + 1
    routed = {s.alert.id: s.routing for s in result.accepted}
    unrouted = [i for i, r in routed.items() if not r.routed]
    assert unrouted == ["ANDROID-demo7-9-1-1"]  # the TAK emergency nobody registered: for the admins to release
    assert all(s.alert.exercise for s in result.accepted)
    for offset, markings in MARKINGS.items():
        routing = routed[f"demo-7-{offset:03d}"]
        assert routing.classification == markings["classification"] and routing.tlp.value == markings["tlp"]
