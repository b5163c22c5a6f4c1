"""Sharing end to end over HTTP and the live stream: registered feeds, Unrouted, release, changes, requests."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.alerts.formats.test_cap import cap_xml
from tests.alerts.formats.test_cot import cot_event
from tests.conftest import ROOT, AppServer, add_user, serve_in_process, wait_for
from tests.dashboard.live.test_live_push import stream


@pytest.fixture(scope="module")
def centre(redis_url) -> Iterator[AppServer]:
    """A server with the example feed registry (docs/feeds.example.toml)."""
    yield from serve_in_process(redis_url, feeds_file=ROOT / "docs" / "feeds.example.toml")


@pytest.fixture(scope="module")
def people(centre):
    url, prefix = centre.services.settings.redis_url, centre.prefix
    specs = [("duty-rs", "duty_officer", "RS"), ("duty-ba", "duty_officer", "BA"), ("duty-hr", "duty_officer", "HR"),
             ("duty-gr", "duty_officer", "GR"), ("resp-ba", "responder", "BA"), ("admin-mk", "admin", "MK")]
    return {name: add_user(url, prefix, name, role, nation, "SECRET") for name, role, nation in specs}


def post(centre, path: str, user, body: dict) -> httpx.Response:
    return httpx.post(f"{centre.url}/api/v1{path}", json=body, headers=user.headers, timeout=10)


def ingest_raw(centre, raw: str) -> str:
    result = centre.services.alert_pipeline().process([("test", raw.encode())])
    assert result.accepted and not result.dead, result.dead
    return result.accepted[0].id


def visible(centre, user, alert_id: str) -> bool:
    return centre.api(f"/alerts/{quote(alert_id, safe='')}", user).status_code == 200


def test_shh001_a_registered_cap_senders_rel_to_alert_reaches_exactly_the_named_nations(centre, people):
    alert_id = ingest_raw(centre, cap_xml(identifier="SHH001", sender="alerts@mup.gov.rs", scope="Restricted",
                                          restriction="NATO RESTRICTED // REL TO BIH, HRV, SRB"))
    wait_for(lambda: visible(centre, people["duty-rs"], alert_id), what="the alert in the read model")
    seen = {name: visible(centre, user, alert_id) for name, user in people.items()}
    assert seen == {"duty-rs": True, "duty-ba": True, "duty-hr": True, "duty-gr": False, "resp-ba": True,
                    "admin-mk": False}
    body = centre.api(f"/alerts/{alert_id}", people["duty-ba"]).json()
    assert body["routing"]["nation"] == "RS" and body["routing"]["classification"] == "RESTRICTED"
    assert body["routing"]["feed"] == "rs-interior-ministry"


def test_shh002_a_tak_emergency_from_a_registered_uid_prefix_reaches_its_nations_duty_officers(centre, people):
    with stream(centre, people["duty-ba"]) as ba:
        alert_id = ingest_raw(centre, cot_event(uid="BIH-7-9-1-1", callsign="Alpha", time=_now(),
                                                lat="43.85", lon="18.41"))
        assert ba.until(alert_id, "alert")["id"] == alert_id
    assert not visible(centre, people["duty-gr"], alert_id)
    checklist = centre.api(f"/alerts/{quote(alert_id, safe='')}/checklist", people["duty-ba"])
    assert checklist.status_code == 200 and checklist.json()["steps"]  # worked like any alert


def test_shh003_an_unregistered_emergency_waits_in_unrouted_and_is_released_live(centre, people):
    admin, hr, gr = people["admin-mk"], people["duty-hr"], people["duty-gr"]
    alert_id = ingest_raw(centre, cot_event(uid="ANDROID-unknown-9-1-1", callsign="All", time=_now()))
    wait_for(lambda: centre.api("/unrouted", admin).json()["total"] >= 1, what="the unrouted alert")
    listed = {item["id"]: item for item in centre.api("/unrouted", admin).json()["items"]}
    assert "callsign All" in listed[alert_id]["routing"]["origin"]
    assert "no registered feed" in listed[alert_id]["routing"]["reason"]
    assert not any(visible(centre, user, alert_id) for user in people.values())
    assert centre.api("/unrouted", hr).status_code == 403
    assert centre.api(f"/alerts/{quote(alert_id, safe='')}/checklist", hr).status_code == 404

    with stream(centre, hr) as hr_live:
        refused = post(centre, f"/unrouted/{quote(alert_id, safe='')}/release", hr,
                       {"releasable_to": ["HR"], "reason": "mine"})
        assert refused.status_code == 403
        released = post(centre, f"/unrouted/{quote(alert_id, safe='')}/release", admin,
                        {"releasable_to": ["HR", "BA"], "nation": "HR", "reason": "HR patrol on that frequency"})
        assert released.status_code == 200, released.text
        assert released.json()["routing"]["released_by"] == "admin-mk"
        assert hr_live.until(alert_id, "alert")["id"] == alert_id  # live, as a new alert
    assert not visible(centre, gr, alert_id)
    assert centre.api(f"/alerts/{quote(alert_id, safe='')}/checklist", hr).json()["steps"]
    assert alert_id not in {i["id"] for i in centre.api("/unrouted", admin).json()["items"]}


def test_shh004_narrowing_withdraws_live_and_a_request_is_approved_live(centre, people):
    rs, ba, hr = people["duty-rs"], people["duty-ba"], people["duty-hr"]
    alert_id = ingest_raw(centre, cap_xml(identifier="SHH004", sender="alerts@mup.gov.rs", scope="Restricted",
                                          restriction="REL TO RS, BA"))
    wait_for(lambda: visible(centre, ba, alert_id), what="the alert released to BA")
    with stream(centre, ba) as ba_live:
        changed = post(centre, f"/alerts/{alert_id}/releasability", rs, {"releasable_to": ["HR"], "reason": "x"})
        assert changed.status_code == 200 and changed.json()["alert"]["routing"]["releasable_to"] == ["RS", "HR"]
        assert ba_live.until(alert_id, "withdraw") == {"id": alert_id}
    assert not visible(centre, ba, alert_id) and visible(centre, hr, alert_id)

    asked = post(centre, f"/alerts/{alert_id}/releasability", hr, {"releasable_to": ["RS", "HR", "BA"],
                                                                     "reason": "BA units tasked"})
    assert asked.status_code == 202 and asked.json()["outcome"] == "requested"
    request_id = asked.json()["request"]["id"]
    assert not visible(centre, ba, alert_id)
    pending = httpx.get(f"{centre.url}/api/v1/releasability-requests", headers=rs.headers, timeout=10).json()
    assert request_id in [r["id"] for r in pending["items"]]
    assert post(centre, f"/releasability-requests/{request_id}/approve", hr, {}).status_code == 403
    with stream(centre, ba) as ba_live:
        approved = post(centre, f"/releasability-requests/{request_id}/approve", rs, {"note": "ok"})
        assert approved.status_code == 200 and approved.json()["state"] == "approved"
        assert ba_live.until(alert_id, "alert")["id"] == alert_id
    assert post(centre, f"/releasability-requests/{request_id}/decline", rs, {}).status_code == 409
    assert post(centre, f"/alerts/{alert_id}/releasability", people["resp-ba"],
                {"releasable_to": ["ALL"], "reason": "x"}).status_code == 403
    assert post(centre, f"/alerts/{alert_id}/releasability", rs,
                {"releasable_to": ["Serbia"], "reason": "x"}).status_code == 422


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_shh010_an_unrouted_arrival_is_audited_for_the_auditor(centre, people):
    """Held for the admins, seen by nobody yet, but recorded: who sent it and why it is unrouted."""
    auditor = add_user(centre.services.settings.redis_url, centre.prefix, "aud-x", "auditor", "GR")
    alert_id = ingest_raw(centre, cot_event(uid="ANDROID-zz-9-1-1", callsign="All", time=_now(), lat="43.85",
                                            lon="18.41"))
    entries = centre.api("/audit", auditor, limit=200).json()["items"]
    held = [e for e in entries if e["action"] == "alert.unrouted" and e["object"] == alert_id]
    assert len(held) == 1 and held[0]["actor"] == "system" and "ANDROID-zz" in held[0]["detail"]["origin"]
    assert "no releasability" in held[0]["detail"]["reason"]
    admin = centre.api("/audit", people["admin-mk"], limit=200).json()["items"]
    assert not any(e["object"] == alert_id for e in admin)  # an admin may not see the alert: nor its entry
