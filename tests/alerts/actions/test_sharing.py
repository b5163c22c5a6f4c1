"""Sharing use cases on a real Redis: the Unrouted view, release, releasability changes and requests."""
from __future__ import annotations

import json

import pytest

from alerts.actions import sharing
from alerts.actions.errors import Conflict, Forbidden, Invalid, NotFound
from alerts.actions.visibility import visible_alert
from alerts.core.events import ALERT_ROUTED
from alerts.core.feeds import FeedRegistry
from alerts.core.sharing import RequestState
from alerts.core.viewer import Viewer
from tests.conftest import alert_pipeline, make_alert

FEEDS = FeedRegistry.parse('[[feeds]]\nname = "rs"\nnation = "RS"\nreleasable_to = ["RS", "BA"]\nsource = "RS-MOI"\n',
                           "feeds.toml")


def person(name: str, role: str, nation: str, clearance: str = "SECRET") -> Viewer:
    return Viewer(name, role, nation, via="session", clearance=clearance)


ADMIN_GR = person("admin-gr", "admin", "GR")
ADMIN_LOW = person("admin-low", "admin", "GR", clearance="UNCLASSIFIED")
DUTY_RS = person("duty-rs", "duty_officer", "RS")
DUTY_BA = person("duty-ba", "duty_officer", "BA")
DUTY_HR = person("duty-hr", "duty_officer", "HR")
RESP_RS = person("resp-rs", "responder", "RS")
ADMIN_HR = person("admin-hr", "admin", "HR")


@pytest.fixture
def ingest(centre, client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions, store=centre.alerts, feeds=FEEDS,
                              on_recorded=centre.workflow.open_checklists)

    def send(**fields):
        alert = make_alert(**fields)
        result = pipeline.process([("test", json.dumps(alert).encode())])
        assert result.accepted and not result.dead, result.dead
        sync(centre)
        return result.accepted[0].id

    return send


def sync(centre) -> list:
    """Apply what happened since to the read model (the live feed's job in a server)."""
    events = centre.alerts.events_since(centre.index.cursor)
    for event in events:
        centre.index.apply(event)
    return events


def test_shr001_unrouted_alerts_are_seen_only_in_the_admins_view_and_released_in_one_action(centre, ingest):
    alert_id = ingest(source="ALL", releasable_to=None, severity="critical")
    for viewer in (DUTY_RS, ADMIN_GR, DUTY_HR):
        with pytest.raises(NotFound):
            visible_alert(centre, viewer, alert_id)
    assert [s.id for s in sharing.unrouted(centre, ADMIN_GR).alerts] == [alert_id]
    assert centre.workflow.state(alert_id) is None  # nobody may see it: no checklist, no escalation
    with pytest.raises(Forbidden):
        sharing.unrouted(centre, DUTY_RS)
    with pytest.raises(Invalid):
        sharing.release(centre, ADMIN_GR, alert_id, ["HR"], reason="  ")

    released = sharing.release(centre, ADMIN_GR, alert_id, ["hr", "BA"], reason="border police report",
                               nation="HR", ip="10.0.0.1")
    assert released.routing.releasable_to == ["HR", "BA"] and released.routing.nation == "HR"
    assert released.routing.released_by == "admin-gr"
    (event,) = sync(centre)
    assert event.kind == ALERT_ROUTED and event.previous.releasable_to is None
    assert visible_alert(centre, DUTY_HR, alert_id).id == alert_id
    with pytest.raises(NotFound):
        visible_alert(centre, DUTY_RS, alert_id)
    state = centre.workflow.state(alert_id)
    assert state is not None and state.steps[0].due_at > released.received_at  # due from the release
    assert sharing.unrouted(centre, ADMIN_GR).total == 0
    with pytest.raises(NotFound):  # routed now: not in the Unrouted view
        sharing.release(centre, ADMIN_GR, alert_id, ["RS"], reason="again")
    entry = centre.audit.read(count=1)[0]
    assert (entry.actor, entry.action, entry.object) == ("admin-gr", "alert.release", alert_id)
    assert entry.detail["releasable_to"] == ["HR", "BA"] and entry.detail["reason"] == "border police report"


def test_shr002_an_admin_sees_only_unrouted_alerts_within_clearance(centre, ingest):
    secret = ingest(source="X-1", releasable_to=None, classification="SECRET")
    plain = ingest(source="X-1", releasable_to=None)
    assert [s.id for s in sharing.unrouted(centre, ADMIN_LOW).alerts] == [plain]
    with pytest.raises(NotFound):
        sharing.release(centre, ADMIN_LOW, secret, ["GR"], reason="x")


def test_shr003_the_originating_nation_changes_releasability_at_once(centre, ingest):
    alert_id = ingest(source="RS-MOI", releasable_to=None)  # the registered feed: RS, BA
    kind, after = sharing.change_releasability(centre, DUTY_RS, alert_id, ["HR"], reason="HR police involved")
    assert kind == "changed" and after.routing.releasable_to == ["RS", "HR"]  # RS always keeps its own
    (event,) = sync(centre)
    assert event.kind == ALERT_ROUTED and event.previous.releasable_to == ["RS", "BA"]
    with pytest.raises(NotFound):
        visible_alert(centre, DUTY_BA, alert_id)  # narrowed: BA lost it
    entry = centre.audit.read(count=1)[0]
    assert entry.action == "alert.releasability" and entry.detail["before"] == ["RS", "BA"]
    assert entry.detail["after"] == ["RS", "HR"] and entry.detail["reason"] == "HR police involved"


def test_shr004_another_nation_asks_and_the_originator_approves(centre, ingest):
    alert_id = ingest(source="RS-MOI", releasable_to=None)
    kind, request = sharing.change_releasability(centre, DUTY_BA, alert_id, ["RS", "BA", "HR"],
                                                 reason="HR units are tasked")
    assert kind == "requested" and request.decides == "RS" and request.after == ["RS", "BA", "HR"]
    assert sync(centre) == []  # nothing changed yet
    with pytest.raises(NotFound):
        visible_alert(centre, DUTY_HR, alert_id)
    assert [r.id for r in sharing.requests_for(centre, DUTY_RS)] == [request.id]
    assert [r.id for r in sharing.requests_for(centre, DUTY_BA)] == [request.id]  # its own request
    assert sharing.requests_for(centre, DUTY_HR) == []
    with pytest.raises(Forbidden):
        sharing.decide(centre, DUTY_BA, request.id, approve=True)  # the asker never approves
    with pytest.raises(Forbidden):
        sharing.decide(centre, RESP_RS, request.id, approve=True)  # a duty officer of the originator does
    decided = sharing.decide(centre, DUTY_RS, request.id, approve=True, note="agreed")
    assert decided.state is RequestState.APPROVED and decided.decided_by == "duty-rs"
    (event,) = sync(centre)
    assert event.kind == ALERT_ROUTED
    assert visible_alert(centre, DUTY_HR, alert_id).routing.releasable_to == ["RS", "BA", "HR"]
    with pytest.raises(Conflict):
        sharing.decide(centre, DUTY_RS, request.id, approve=False)
    actions = [e.action for e in centre.audit.read(count=3)][::-1]
    assert actions == ["releasability.request", "releasability.decide", "alert.releasability"]


def test_shr005_a_declined_request_changes_nothing(centre, ingest):
    alert_id = ingest(source="RS-MOI", releasable_to=None)
    _, request = sharing.change_releasability(centre, DUTY_BA, alert_id, ["ALL"], reason="public interest")
    assert sharing.decide(centre, DUTY_RS, request.id, approve=False).state is RequestState.DECLINED
    assert sync(centre) == []
    assert visible_alert(centre, DUTY_RS, alert_id).routing.releasable_to == ["RS", "BA"]


def test_shr006_who_may_not_touch_releasability(centre, ingest):
    alert_id = ingest(source="RS-MOI", releasable_to=None)
    with pytest.raises(Forbidden):
        sharing.change_releasability(centre, RESP_RS, alert_id, ["HR"], reason="x")
    with pytest.raises(NotFound):  # HR cannot see it: it cannot ask about it either
        sharing.change_releasability(centre, DUTY_HR, alert_id, ["HR"], reason="x")
    with pytest.raises(Invalid):
        sharing.change_releasability(centre, DUTY_RS, alert_id, ["Serbia"], reason="x")
    with pytest.raises(NotFound):
        sharing.decide(centre, DUTY_RS, "nope", approve=True)


def test_shr007_unknown_reporting_nation_admins_decide_in_its_place(centre, ingest):
    alert_id = ingest(source="X-2", releasable_to=["GR", "RS"])  # an organisation: no reporting nation
    kind, after = sharing.change_releasability(centre, ADMIN_GR, alert_id, ["GR"], reason="withdrawn by GR")
    assert kind == "changed" and after.routing.releasable_to == ["GR"]
    sync(centre)
    with pytest.raises(NotFound):  # RS cannot see it any more
        sharing.change_releasability(centre, DUTY_RS, alert_id, ["GR", "RS"], reason="x")


def test_shr008_a_reporting_nation_that_cannot_see_its_alert_does_not_decide_the_admins_do(centre, ingest):
    """JSON ``source`` RS, released to HR only: RS cannot see the alert, so a request about it would wait for
    RS forever; the admins (who may see it) decide instead, and RS is not slipped into the list."""
    alert_id = ingest(source="RS", releasable_to=["HR"])
    kind, request = sharing.change_releasability(centre, DUTY_HR, alert_id, ["HR", "BA"], reason="BA units respond")
    assert kind == "requested" and request.decides is None
    assert [r.id for r in sharing.requests_for(centre, ADMIN_HR)] == [request.id]
    decided = sharing.decide(centre, ADMIN_HR, request.id, True)
    assert decided.state is RequestState.APPROVED
    sync(centre)
    assert visible_alert(centre, ADMIN_HR, alert_id).routing.releasable_to == ["HR", "BA"]
