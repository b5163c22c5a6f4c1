"""Who sees what: the one ``sight`` rule (an alert event comes into, changes in, or goes out of a viewer's sight)
and the one asset rule, and that no other module writes them again (the live streams and the TAK sender call them)."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from alerts.actions.visibility import CHANGED, GAINED, LOST, asset_released, asset_seen_now, shown_asset, sight
from alerts.core.asset_index import AssetIndex
from alerts.core.events import ALERT_CREATED, ALERT_ROUTED, ALERT_UPDATED, AlertEvent
from alerts.core.index import AlertIndex
from alerts.core.markings import Classifications
from alerts.core.model import Alert, Placement, Routing, Status, StoredAlert
from alerts.core.query import AlertQuery
from alerts.core.viewer import Viewer
from tests.conftest import ROOT, make_alert, make_asset

RS = Viewer(name="duty-rs", role="duty_officer", nation="RS", clearance="UNCLASSIFIED")
TO_RS = Routing(nation="RS", releasable_to=["RS"])
TO_HR = Routing(nation="RS", releasable_to=["HR"])


def _event(kind: str, routing: Routing, previous: Routing | None = None, status: Status = Status.NEW) -> AlertEvent:
    stored = StoredAlert(alert=Alert.model_validate(make_alert(source="RS")), placement=Placement(),
                         received_at=datetime(2026, 11, 27, tzinfo=UTC), routing=routing, status=status)
    return AlertEvent("1-0", kind, stored, previous)


@pytest.mark.parametrize("kind, routing, previous, status, query, expected", [
    (ALERT_CREATED, TO_RS, None, Status.NEW, AlertQuery(), GAINED),
    (ALERT_CREATED, TO_HR, None, Status.NEW, AlertQuery(), None),
    (ALERT_CREATED, TO_RS, None, Status.NEW, AlertQuery(severities=frozenset()), None),
    (ALERT_UPDATED, TO_RS, None, Status.RESOLVED, AlertQuery(status="open"), CHANGED),  # learns it closed
    (ALERT_UPDATED, TO_HR, None, Status.ACKNOWLEDGED, AlertQuery(), None),
    (ALERT_ROUTED, TO_RS, TO_HR, Status.NEW, AlertQuery(), GAINED),
    (ALERT_ROUTED, TO_RS, TO_HR, Status.RESOLVED, AlertQuery(status="open"), None),  # released, but not asked for
    (ALERT_ROUTED, TO_HR, TO_RS, Status.NEW, AlertQuery(), LOST),
    (ALERT_ROUTED, Routing(nation="RS", releasable_to=["RS", "HR"]), TO_RS, Status.NEW, AlertQuery(), CHANGED),
    (ALERT_ROUTED, TO_HR, Routing(nation="RS", releasable_to=["GR"]), Status.NEW, AlertQuery(), None),
])
def test_vis001_sight_of_an_alert_event(kind, routing, previous, status, query, expected):
    restricted = RS.restrict(query, Classifications())
    assert sight(restricted, _event(kind, routing, previous, status)) == expected


def test_vis002_an_asset_is_seen_by_the_nations_it_is_released_to():
    assert asset_released(RS, make_asset("a", 42.0, 21.0, releasable_to=["ALL"]))
    assert asset_released(RS, make_asset("b", 42.0, 21.0, releasable_to=["RS"]))
    assert not asset_released(RS, make_asset("c", 42.0, 21.0, nation="GR", releasable_to=["GR"]))


def test_vis003_the_rules_are_written_once():
    """Outside the domain core and ``alerts.actions.visibility``, no module compares an asset's releasability
    to a nation or works out who gains or loses sight of a re-routed alert."""
    rules = re.compile(r"\.visible_to\(|seen_before\(\)|asset_index\.get\([^)]*nation")
    found = []
    for folder in ("alerts/actions", "alerts/ingest", "alerts/formats", "dashboard", "layers"):
        for path in (ROOT / folder).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name == "alerts/actions/visibility.py":
                continue
            found += [f"{name}: {m.group(0)}" for m in rules.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_vis004_a_live_asset_event_is_judged_by_the_viewers_restricted_query_alone():
    """``asset_seen_now`` (what the live streams share among viewers of one query) answers as ``asset_released``
    and ``shown_asset`` for the viewer, both as the event recorded the asset and as the read model holds it now."""
    scheme = Classifications()
    alerts, assets = AlertIndex(), AssetIndex()
    to_hr = _event(ALERT_CREATED, TO_HR).alert
    alerts.load([to_hr], "1-0")
    centre = SimpleNamespace(index=alerts, asset_index=assets, scheme=scheme)
    tasked = make_asset("amb", 42.0, 21.0, releasable_to=["RS", "HR"], status="committed", assigned_to=to_hr.id)
    hr = Viewer(name="duty-hr", role="duty_officer", nation="HR", clearance="UNCLASSIFIED")
    gr = Viewer(name="duty-gr", role="duty_officer", nation="GR", clearance="UNCLASSIFIED")
    for viewer in (RS, hr):
        seen = asset_seen_now(centre, viewer.restrict(AlertQuery(), scheme), tasked)
        assert seen == shown_asset(centre, viewer, tasked)
    assert asset_seen_now(centre, RS.restrict(AlertQuery(), scheme), tasked).assigned_to is None  # HR's alert
    assert asset_seen_now(centre, hr.restrict(AlertQuery(), scheme), tasked).assigned_to == to_hr.id
    assert asset_seen_now(centre, gr.restrict(AlertQuery(), scheme), tasked) is None
    assets.put(tasked.model_copy(update={"releasable_to": ["HR"]}))  # narrowed since the event: RS sees it no more
    assert asset_seen_now(centre, RS.restrict(AlertQuery(), scheme), tasked) is None
    assert asset_seen_now(centre, hr.restrict(AlertQuery(), scheme), tasked) is not None
