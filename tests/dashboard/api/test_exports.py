"""GeoJSON export, CoT out and GeoJSON import through a running server."""
from __future__ import annotations

import subprocess
import sys

import httpx
import redis
from lxml import etree

from alerts.formats.decode import decode_alert
from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import DATA, ROOT, add_user, make_alert, payload, wait_for

def _window(day: int) -> dict:
    return {"since": f"2016-06-{day:02d}T00:00:00Z", "until": f"2016-06-{day + 1:02d}T00:00:00Z"}


def _seed(server, redis_url, users, day: int):
    """One alert released to all and one to RS only, reported on their own day."""
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    shared = make_alert(reported_at=f"2016-06-{day:02d}T06:00:00Z", releasable_to=["ALL"], exercise=True)
    secret = make_alert(reported_at=f"2016-06-{day:02d}T07:00:00Z", releasable_to=["RS"], source="RS")
    send_to_stream(client, keys, [payload(shared), payload(secret)])
    wait_for(lambda: secret["id"] in server.alert_ids(users["duty-rs"], **_window(day)), what="the seeded alerts")
    return shared, secret


def test_xap001_geojson_export_needs_export_rights_respects_releasability_and_is_audited(server, users, redis_url):
    shared, secret = _seed(server, redis_url, users, day=6)
    window = _window(6)
    responder = server.api("/export/alerts.geojson", users["resp-gr"], **window)
    assert responder.status_code == 403
    leader = server.api("/export/alerts.geojson", users["lead-hr"], **window)
    assert leader.status_code == 200 and leader.headers["content-type"].startswith("application/geo+json")
    assert {f["id"] for f in leader.json()["features"]} == {shared["id"]}
    officer = server.api("/export/alerts.geojson", users["duty-rs"], **window).json()
    assert {f["id"] for f in officer["features"]} == {shared["id"], secret["id"]}
    auditor = add_user(redis_url, server.prefix, "auditor-xap001", "auditor", "GR")
    audit = server.api("/audit", auditor).json()["items"]
    exports = [e for e in audit if e["action"] == "export.geojson"]
    assert {e["actor"] for e in exports} >= {"lead-hr", "duty-rs"}
    by_others = server.api("/audit", users["admin-mk"]).json()["items"]  # MK's admin: not other nations' exports
    assert not [e for e in by_others if e["action"] == "export.geojson"]
    assert all(e["detail"]["count"] in (1, 2) for e in exports)


def test_xap002_cot_feed_decodes_back_and_respects_releasability(server, users, redis_url):
    shared, secret = _seed(server, redis_url, users, day=8)
    window = _window(8)
    response = server.api("/cot", users["lead-hr"], **window)
    assert response.status_code == 200
    events = etree.fromstring(response.content).findall("event")
    decoded = [decode_alert(etree.tostring(e)) for e in events]
    assert {a.id for a in decoded} == {shared["id"]}
    assert events[0].get("opex") == "e"
    assert httpx.get(f"{server.url}/api/v1/cot", timeout=5).status_code == 401


def test_xap003_publish_a_usgs_feature_collection(server, users, redis_url):
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "publish", "--stream", "--redis-url", redis_url,
         "--prefix", server.prefix, str(DATA / "geojson" / "usgs_1.0_day_2019-02-17.geojson")],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "158 payload(s)" in result.stdout
    window = {"since": "2019-02-16T00:00:00Z", "until": "2019-02-18T00:00:00Z", "type": "natural_disaster"}
    wait_for(lambda: server.api("/summary", users["duty-rs"], **window).json()["total_alerts"] == 158,
             what="158 USGS alerts")
    greek = server.api("/alerts", users["duty-rs"], country="GR", **window).json()["items"]
    assert len(greek) == 1 and greek[0]["source"] == "USGS" and greek[0]["placement"]["country"] == "GR"
