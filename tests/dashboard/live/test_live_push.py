"""The live-push contract, in process (``create_app`` served in a thread, real Redis): what ``/live/alerts`` sends."""
from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from alerts.core.query import parse_query
from layers.incidents import CLOSED_COLOUR, exercise_style
from tests.conftest import ROOT, Stream, add_user, make_alert, wait_for

#: Exactly the fields of an alert event (``dashboard.live.payloads.alert_data``).
ALERT_FIELDS = {"id", "title", "severity", "type", "type_label", "status", "open", "exercise", "country", "region",
                "reported_at", "reported_label", "escalation", "escalation_label", "steps_done", "marking", "point"}


@pytest.fixture(scope="module")
def officer(app_server):
    return add_user(app_server.services.settings.redis_url, app_server.prefix, "duty-live", "duty_officer", "RS")


@contextmanager
def stream(app_server, user, query: str = "") -> Iterator[Stream]:
    with httpx.stream("GET", f"{app_server.url}/live/alerts?{query}", headers=user.headers,
                      timeout=httpx.Timeout(15, read=15)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def test_lpu001_no_severity_ticked_is_a_valid_query_that_matches_nothing(app_server, officer):
    """The map sends ``severity=`` when nothing is ticked: the stream opens (it answered 422 before)."""
    app_server.ingest(make_alert(source="RS", releasable_to=["RS"], severity="low"))
    wait_for(lambda: app_server.api("/alerts", officer).json()["total"] >= 1, what="the alert in the read model")
    response = httpx.get(f"{app_server.url}/api/v1/alerts?severity=", headers=officer.headers, timeout=10)
    assert response.status_code == 200 and response.json()["total"] == 0
    query = parse_query({"severity": [""]}, lambda: None)
    assert query.severities == frozenset()
    with stream(app_server, officer, "severity=") as live:  # opened (200): not refused with 422
        assert live.response.status_code == 200
    assert parse_query({}, lambda: None).severities is None  # absent: any severity


def test_lpu002_changes_to_an_alert_are_pushed_as_update_events(app_server, officer):
    alert = make_alert(source="RS", releasable_to=["RS"], severity="critical")
    with stream(app_server, officer) as live:
        app_server.ingest(alert)
        created = live.until(alert["id"], "alert")
        assert created["status"] == "new" and created["open"] is True
        acked = httpx.post(f"{app_server.url}/api/v1/alerts/{alert['id']}/ack", headers=officer.headers, timeout=10)
        assert acked.status_code == 200
        update = live.until(alert["id"], "update")
        assert update["status"] == "acknowledged" and "acknowledged" in update["point"]["text"]
        cancel = make_alert(source="RS", releasable_to=["RS"], msg_type="cancel", references=[alert["id"]])
        app_server.ingest(cancel)
        closed = live.until(alert["id"], "update")
        assert closed["status"] == "cancelled" and closed["open"] is False
        assert closed["point"]["core"] == CLOSED_COLOUR


def test_lpu003_events_carry_plain_data_not_page_markup(app_server, officer):
    alert = make_alert(source="RS", releasable_to=["RS"], exercise=True, title="<b>Plain</b>")
    with stream(app_server, officer) as live:
        app_server.ingest(alert)
        data = live.until(alert["id"], "alert")
    assert set(data) == ALERT_FIELDS
    assert data["title"] == "<b>Plain</b>" and data["exercise"] is True
    assert set(data["point"]) == {"lon", "lat", "ring", "core", "opacity", "ring_opacity", "halo", "halo_opacity",
                                  "text"}
    assert "&lt;b&gt;Plain" in data["point"]["text"]  # hover text escapes what came from a message
    # an exercise is as strong as a real incident and wears the halo, live as after a reload
    assert {k: data["point"][k] for k in exercise_style(True)} == exercise_style(True)
    assert data["point"]["halo_opacity"] == 1.0 and data["point"]["opacity"] == exercise_style(False)["opacity"]
    text = json.dumps(data)
    assert '"props"' not in text and '"namespace"' not in text


def test_lpu004_the_live_and_api_modules_build_no_page_components():
    for folder in ("dashboard/live", "dashboard/api"):
        for path in (ROOT / folder).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            assert not names & {"dash", "plotly", "dashboard.components"}, path


def test_lpu005_a_reconnect_replays_what_was_missed_up_to_the_cap_then_asks_for_a_rebuild(
        app_server, officer, monkeypatch):
    """At most ``REPLAY_LIMIT`` events are replayed after a cursor; more, or ``0-0`` on a longer stream, gets
    ``event: rebuild`` and the stream ends (``0-0`` replayed the whole stream before)."""
    import dashboard.live.sse as sse

    cursor = app_server.services.centre.alerts.last_event_id()
    missed = [make_alert(source="RS", releasable_to=["RS"]) for _ in range(11)]
    app_server.ingest(*missed)

    def first_events(last_event_id: str, count: int) -> list[tuple[str, dict]]:
        with httpx.stream("GET", f"{app_server.url}/live/alerts",
                          headers={**officer.headers, "Last-Event-ID": last_event_id},
                          timeout=httpx.Timeout(15, read=15)) as response:
            live = Stream(response)
            got = [live.next_event()]
            while got[-1][0] != "rebuild" and len(got) < count:
                got.append(live.next_event())
            return got

    monkeypatch.setattr(sse, "REPLAY_LIMIT", 11)
    assert [data["id"] for _, data in first_events(cursor, 11)] == [a["id"] for a in missed]
    monkeypatch.setattr(sse, "REPLAY_LIMIT", 10)
    for last_event_id in (cursor, "0-0"):
        (name, data), = first_events(last_event_id, 11)
        assert name == "rebuild" and data["limit"] == 10 and "more than 10" in data["reason"]


@pytest.mark.parametrize("junk", ["abc", "1-0-0", "-", "+", ">", "0-abc", "1" * 30])
def test_lpu006_a_cursor_that_is_not_a_stream_id_is_refused(app_server, officer, junk):
    response = httpx.get(f"{app_server.url}/live/alerts", headers={**officer.headers, "Last-Event-ID": junk},
                         timeout=10)
    assert response.status_code == 422 and "stream id" in response.json()["detail"]


@pytest.mark.parametrize("cursor", ["9999999999999-0", " 9999999999999-0", "9999999999999-0 "])
def test_lpu007_a_cursor_the_stream_never_reached_gets_reload(app_server, officer, cursor):
    """Header white space around the id is not part of it (either side: it was refused on the right only)."""
    with httpx.stream("GET", f"{app_server.url}/live/alerts", params={"after": cursor},
                      headers=officer.headers, timeout=httpx.Timeout(15, read=15)) as response:
        name, data = Stream(response).next_event()
    assert name == "reload" and "ahead" in data["reason"]


def test_lpu008_a_viewer_of_open_alerts_learns_that_one_closed(app_server, officer):
    alert = make_alert(source="RS", releasable_to=["RS"])
    with stream(app_server, officer, "status=open") as live:
        app_server.ingest(alert)
        live.until(alert["id"], "alert")
        app_server.ingest(make_alert(source="RS", releasable_to=["RS"], msg_type="cancel", references=[alert["id"]]))
        assert live.until(alert["id"], "update")["status"] == "cancelled"


def test_lpu009_an_escalation_is_pushed_live_with_its_level(app_server, officer):
    """The escalation monitor (its clock moved, not slept) raises the level; the stream sends ``update`` with it."""
    from datetime import timedelta

    from alerts.actions.escalation import EscalationMonitor

    centre = app_server.services.centre
    alert = make_alert(source="RS", releasable_to=["RS"], severity="critical")
    with stream(app_server, officer) as live:
        app_server.ingest(alert)
        assert live.until(alert["id"], "alert")["escalation"] == 0
        received = centre.alerts.get(alert["id"]).received_at
        monitor = EscalationMonitor(centre.workflow, centre.policy, clock=lambda: received + timedelta(minutes=3))
        assert [e.level for e in monitor.check()] == [1]
        update = live.until(alert["id"], "update")
    assert update["escalation"] == 1 and update["escalation_label"] == "ESCALATED L1"
    assert "ESCALATED L1" in update["point"]["text"]
    assert wait_for(lambda: centre.index.get(alert["id"]).escalation_level == 1, what="the read model")


def test_lpu010_the_map_stream_carries_alerts_and_assets_in_one_connection(app_server, officer):
    """``/live/map``: both kinds of event, ids ``<alerts id>,<assets id>``; a reconnect with that id resumes
    each part exactly (nothing again, nothing missed)."""
    from tests.conftest import make_asset

    services = app_server.services
    alert = make_alert(source="RS", releasable_to=["RS"])
    url = f"{app_server.url}/live/map"
    with httpx.stream("GET", url, headers=officer.headers, timeout=httpx.Timeout(15, read=15)) as response:
        assert response.status_code == 200
        live = Stream(response)
        app_server.ingest(alert)
        assert live.until(alert["id"], "alert")["id"] == alert["id"]
        alerts_id = live.last_id
        services.asset_pipeline().process([("test", make_asset("map-amb-1", 42.0, 21.4).model_dump_json().encode())])
        assert live.until("map-amb-1", "asset")["id"] == "map-amb-1"
        both = live.last_id
    assert alerts_id.split(",")[0] == both.split(",")[0] and alerts_id.split(",")[1] != both.split(",")[1]
    later = make_alert(source="RS", releasable_to=["RS"])
    app_server.ingest(later)
    with httpx.stream("GET", url, headers={**officer.headers, "Last-Event-ID": both},
                      timeout=httpx.Timeout(15, read=15)) as response:
        name, data = Stream(response).next_event()
    assert (name, data["id"]) == ("alert", later["id"])
    bad = httpx.get(url, headers={**officer.headers, "Last-Event-ID": both.split(",")[0]}, timeout=10)
    assert bad.status_code == 422


def test_lpu011_a_quiet_stream_sends_ping_events_at_the_set_interval(app_server, officer, monkeypatch):
    """Keepalive is a real event (``event: ping``), which EventSource sees; a comment was invisible to it."""
    from dataclasses import replace

    services = app_server.services
    monkeypatch.setattr(services, "settings", replace(services.settings, live_ping_seconds=0.2))
    for path in ("/live/map", "/live/alerts", "/live/assets"):
        with httpx.stream("GET", f"{app_server.url}{path}", headers=officer.headers,
                          timeout=httpx.Timeout(15, read=15)) as response:
            live = Stream(response)
            assert [live.next_event(pings=True) for _ in range(2)] == [("ping", {}), ("ping", {})]


def test_lpu012_a_replay_never_sends_an_alert_no_longer_released_to_the_viewer(app_server, officer):
    """Breaker: a new HR user resuming from ``0-0`` was sent an alert narrowed to RS before it existed (the
    event's snapshot of the routing was judged, not the routing now); only its withdraw may go out."""
    services = app_server.services
    hr = add_user(services.settings.redis_url, app_server.prefix, "duty-live-hr", "duty_officer", "HR")
    cursor = services.centre.alerts.last_event_id()
    narrowed, kept = (make_alert(source="RS", releasable_to=["RS", "HR"]) for _ in range(2))
    app_server.ingest(narrowed, kept)
    wait_for(lambda: services.centre.index.get(kept["id"]) is not None, what="the read model")
    response = httpx.post(f"{app_server.url}/api/v1/alerts/{narrowed['id']}/releasability", headers=officer.headers,
                          json={"releasable_to": ["RS"], "reason": "narrowed"}, timeout=10)
    assert response.status_code == 200, response.text
    wait_for(lambda: services.centre.index.get(narrowed["id"]).routing.releasable_to == ["RS"], what="narrowed")
    for last_event_id in (cursor, "0-0"):
        seen = []
        with httpx.stream("GET", f"{app_server.url}/live/alerts", headers={**hr.headers, "Last-Event-ID": last_event_id},
                          timeout=httpx.Timeout(15, read=15)) as response:
            live = Stream(response)
            while not seen or seen[-1] != ("withdraw", narrowed["id"]):
                name, data = live.next_event()
                seen.append((name, data.get("id")))
        assert ("alert", kept["id"]) in seen
        assert [name for name, alert_id in seen if alert_id == narrowed["id"]] == ["withdraw"]


def test_lpu013_each_live_event_is_built_once_per_nation_and_clearance_and_never_sent_across_them(
        app_server, officer, monkeypatch):
    """Three RS viewers with the same filters share one frame; an HR viewer and a cleared RS viewer each get
    their own. An alert released to HR only, or above a viewer's clearance, reaches nobody else."""
    from collections import Counter
    from contextlib import ExitStack
    from dataclasses import replace

    import dashboard.live.routes as routes

    services = app_server.services
    url, prefix = services.settings.redis_url, app_server.prefix
    viewers = [officer] + [add_user(url, prefix, f"duty-group-rs{i}", "duty_officer", "RS") for i in (2, 3)]
    viewers.append(add_user(url, prefix, "duty-group-hr", "duty_officer", "HR"))
    viewers.append(add_user(url, prefix, "duty-group-conf", "duty_officer", "RS", clearance="CONFIDENTIAL"))
    monkeypatch.setattr(services, "settings", replace(services.settings, live_ping_seconds=0.2))
    built = Counter()

    def counting(stored):
        built[stored.id] += 1
        return alert_data(stored)

    alert_data = routes.alert_data
    monkeypatch.setattr(routes, "alert_data", counting)
    to_all, to_hr, confidential, last = (make_alert(source="RS", releasable_to=r, **more) for r, more in (
        (["ALL"], {}), (["HR"], {}), (["RS"], {"classification": "CONFIDENTIAL"}), (["ALL"], {})))
    with ExitStack() as stack:
        streams = [stack.enter_context(stream(app_server, viewer)) for viewer in viewers]
        for live in streams:  # a ping comes once the replay is over: from here every event arrives live
            assert live.next_event(pings=True)[0] == "ping"
        app_server.ingest(to_all, to_hr, confidential, last)
        seen = []
        for live in streams:
            ids = []
            while last["id"] not in ids:
                name, data = live.next_event()
                ids += [data["id"]] if name == "alert" else []
            seen.append(ids)
    assert seen[:3] == [[to_all["id"], last["id"]]] * 3
    assert seen[3] == [to_all["id"], to_hr["id"], last["id"]]
    assert seen[4] == [to_all["id"], confidential["id"], last["id"]]
    # one build per group that sees it: RS, HR and RS-CONFIDENTIAL (not one per viewer: 5)
    assert built == {to_all["id"]: 3, to_hr["id"]: 1, confidential["id"]: 1, last["id"]: 3}


def _post(app_server, user, path: str, **body) -> httpx.Response:
    return httpx.post(f"{app_server.url}/api/v1{path}", headers=user.headers, json=body or None, timeout=10)


def test_lpu020_every_step_done_by_anyone_is_pushed_with_the_progress(app_server, officer):
    """Only the first step used to change the alert (status ``in_progress``): later steps done by another user
    reached no open page. Each now updates the stored alert's ``steps_done``, which is pushed."""
    other = add_user(app_server.services.settings.redis_url, app_server.prefix, "duty-live-2", "duty_officer", "RS")
    alert = make_alert(source="RS", releasable_to=["RS"], severity="high")
    with stream(app_server, officer) as live:
        app_server.ingest(alert)
        assert live.until(alert["id"], "alert")["steps_done"] == 0
        assert _post(app_server, other, f"/alerts/{alert['id']}/ack").status_code == 200
        assert live.until(alert["id"], "update")["status"] == "acknowledged"
        for n in (1, 2):
            assert _post(app_server, other, f"/alerts/{alert['id']}/checklist/{n}/done", note="x").status_code == 200
            update = live.until(alert["id"], "update")
            assert (update["status"], update["steps_done"]) == ("in_progress", n)


@contextmanager
def alarm_stream(app_server, user) -> Iterator[Stream]:
    with httpx.stream("GET", f"{app_server.url}/live/alarm", headers=user.headers,
                      timeout=httpx.Timeout(15, read=15)) as response:
        assert response.status_code == 200, response.read()
        yield Stream(response)


def _alarm(live: Stream) -> dict:
    while True:
        event, data = live.next_event()
        if event == "alarm":
            return data


def test_lpu021_the_alarm_stream_opens_with_the_alarm_and_follows_it_within_releasability(app_server, officer):
    """``/live/alarm``: the count and the newest few (never the whole list), no id; a critical alert not released
    to the viewer changes nothing and is never named; an acknowledgment by anyone clears it."""
    centre = app_server.services.centre  # (the module's other tests leave alerts: the counts are relative)
    hidden = make_alert(source="HR", releasable_to=["HR"], severity="critical", title="Not for RS eyes")
    mine = [make_alert(source="RS", releasable_to=["RS"], severity="critical", title=f"Alarm {i}",
                       exercise=i == 0) for i in range(5)]
    with alarm_stream(app_server, officer) as live:
        before = _alarm(live)
        assert live.last_id is None  # a state, not an event: no id
        assert set(before) == {"count", "headline", "exercise", "exercise_only", "newest"}
        app_server.ingest(hidden)
        app_server.ingest(*mine)
        seen = [_alarm(live)]
        while seen[-1]["count"] < before["count"] + 5:
            seen.append(_alarm(live))
        now = seen[-1]
        assert "Not for RS eyes" not in json.dumps(seen)
        assert len(now["newest"]) == 3 and {a["title"] for a in now["newest"]} <= {m["title"] for m in mine}
        assert now["headline"].startswith(f"{now['count']} critical alerts")
        for alert in mine:
            assert _post(app_server, officer, f"/alerts/{alert['id']}/ack").status_code == 200
        now = _alarm(live)
        while now["count"] > before["count"]:
            now = _alarm(live)
        assert all(a["id"] not in {m["id"] for m in mine} for a in now["newest"])
    wait_for(lambda: centre.index.get(hidden["id"]) is not None, what="the hidden alert recorded")
