"""Asset routes against a running server on real Redis: lists, suggestions, assign/release, audit, releasability."""
from __future__ import annotations

import httpx
import redis

from alerts.store.assets import AssetStore
from alerts.store.audit import AuditLog
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import make_asset as asset
from tests.conftest import make_alert, payload, wait_for


def _post(server, path: str, user, body: dict) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1{path}", json=body, headers=user.headers, timeout=10)


def _setup(server, users, redis_url):
    client = redis.Redis.from_url(redis_url)
    keys = Keys(server.prefix)
    store = AssetStore(client, keys)
    store.put_many([
        asset("asa-rs-med", 44.80, 20.40, nation="RS", releasable_to=None),  # RS only (not stated)
        asset("asa-gr-med", 44.70, 20.30, nation="GR", releasable_to=["GR", "RS"]),
        asset("asa-hr-helo", 44.60, 20.20, nation="HR", type_="utility_helicopter", releasable_to=["ALL"]),
        asset("asa-hr-cyber", 44.82, 20.46, nation="HR", type_="cyber_response_team", releasable_to=["ALL"]),
        asset("asa-hr-down", 44.82, 20.46, nation="HR", status="maintenance", releasable_to=["ALL"]),
        # suits by capability and is the nearest, but a vessel cannot reach inland Belgrade
        asset("asa-hr-boat", 44.821, 20.461, nation="HR", type_="coast_guard_vessel", capabilities=["medevac"],
              releasable_to=["ALL"]),
    ])
    alert = make_alert(type="mass_casualty", location={"lat": 44.82, "lon": 20.46}, source="RS")
    secret = make_alert(type="mass_casualty", releasable_to=["RS"], source="RS")
    send_to_stream(client, keys, [payload(alert), payload(secret)])
    wait_for(lambda: {alert["id"], secret["id"]} <= server.alert_ids(users["duty-rs"]), what="alerts")
    wait_for(lambda: len(server.api("/assets", users["duty-rs"]).json()["items"]) >= 6, what="assets loaded")
    return client, keys, alert, secret


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["asset"]["id"] if "asset" in item else item["id"] for item in body["items"]]


def test_asa001_lists_suggestions_assign_release_audit_and_releasability(server, users, redis_url):
    client, keys, alert, secret = _setup(server, users, redis_url)
    rs, gr, hr = users["duty-rs"], users["resp-gr"], users["lead-hr"]

    mine = lambda u, **p: {i for i in _ids(server.api("/assets", u, **p)) if i.startswith("asa-")}  # noqa: E731
    assert mine(rs) == {"asa-rs-med", "asa-gr-med", "asa-hr-helo", "asa-hr-cyber", "asa-hr-down", "asa-hr-boat"}
    assert mine(gr) == {"asa-gr-med", "asa-hr-helo", "asa-hr-cyber", "asa-hr-down", "asa-hr-boat"}
    assert mine(hr) == {"asa-hr-helo", "asa-hr-cyber", "asa-hr-down", "asa-hr-boat"}
    assert mine(rs, nation="HR", status="ready") == {"asa-hr-helo", "asa-hr-cyber", "asa-hr-boat"}
    assert mine(rs, type="utility_helicopter") == {"asa-hr-helo"}
    assert server.api("/assets", rs, status="flying").status_code == 422

    url = f"/alerts/{alert['id']}/suggestions"
    # Quickest first; the cyber team does not suit, the one in maintenance is not ready, the vessel
    # cannot reach an inland incident.
    assert [i for i in _ids(server.api(url, rs)) if i.startswith("asa-")] == ["asa-rs-med", "asa-gr-med", "asa-hr-helo"]
    assert [i for i in _ids(server.api(url, gr)) if i.startswith("asa-")] == ["asa-gr-med", "asa-hr-helo"]
    first = server.api(url, rs).json()["items"][0]
    assert first["distance_km"] < 6 and first["eta_minutes"] > 0
    assert server.api(f"/alerts/{secret['id']}/suggestions", gr).status_code == 404

    assign = f"/alerts/{alert['id']}/assign"
    release = f"/alerts/{alert['id']}/release"
    assert _post(server, assign, gr, {"asset_id": "asa-gr-med"}).status_code == 403  # responder: no task_assets
    assert _post(server, assign, rs, {"asset_id": "asa-nope"}).status_code == 404
    assert _post(server, f"/alerts/{secret['id']}x/assign", rs, {"asset_id": "asa-rs-med"}).status_code == 404
    assert _post(server, assign, rs, {"asset_id": "asa-hr-down"}).status_code == 409
    assert _post(server, release, rs, {"asset_id": "asa-gr-med"}).status_code == 409

    response = _post(server, assign, rs, {"asset_id": "asa-gr-med"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "committed" and response.json()["assigned_to"] == alert["id"]
    assert _post(server, assign, rs, {"asset_id": "asa-gr-med"}).status_code == 409  # already committed
    assigned = server.api(f"/alerts/{alert['id']}/assets", rs).json()["assigned_assets"]
    assert [a["id"] for a in assigned] == ["asa-gr-med"]
    assert "asa-gr-med" not in _ids(server.api(url, rs))  # no longer ready
    assert [a["id"] for a in server.api(f"/alerts/{alert['id']}/assets", hr).json()["assigned_assets"]] == []

    response = _post(server, release, rs, {"asset_id": "asa-gr-med"})
    assert response.status_code == 200 and response.json()["status"] == "ready"
    assert response.json()["assigned_to"] is None
    assert server.api(f"/alerts/{alert['id']}/assets", rs).json()["assigned_assets"] == []

    entries = [e for e in AuditLog(client, keys).read_all() if e.action.startswith("asset.")]
    assert [(e.actor, e.action, e.object, e.detail["alert_id"]) for e in entries] == [
        ("duty-rs", "asset.assign", "asa-gr-med", alert["id"]),
        ("duty-rs", "asset.release", "asa-gr-med", alert["id"]),
    ]
