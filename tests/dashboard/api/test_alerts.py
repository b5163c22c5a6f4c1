"""The HTTP API against a running ``crisisdash serve`` on a real Redis: ingest paths in, JSON out."""
from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_channel, send_to_stream
from tests.conftest import make_alert, payload, wait_for


def _publish_when_heard(client: redis.Redis, keys: Keys, data: bytes) -> None:
    # pub/sub drops what nobody hears: wait until the server's ingest worker subscribed.
    wait_for(lambda: client.pubsub_numsub(keys.alerts_channel)[0][1] >= 1, what="ingest to subscribe")
    assert send_to_channel(client, keys, [data]) >= 1


def test_api001_channel_alert_reaches_the_api(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    alert = make_alert(title="Channel alert")
    _publish_when_heard(client, keys, payload(alert))
    wait_for(lambda: alert["id"] in server.alert_ids(user), what="the channel alert in /alerts")
    body = server.api(f"/alerts/{quote(alert['id'], safe='')}", user).json()
    assert body["title"] == "Channel alert"
    assert body["placement"]["country"] == "MK"
    assert body["status"] == "new"


def test_api002_stream_alert_reaches_the_api_with_extra_fields_kept(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    alert = make_alert(location={"lat": 44.8186, "lon": 20.468}, source="RS", unit_callsign="BRAVO-2")
    send_to_stream(client, keys, [payload(alert)])
    body = wait_for(lambda: _get(server, alert["id"], user), what="the stream alert")
    assert body["placement"]["country"] == "RS"
    assert body["placement"]["regions"][0]["code"] == "RS-00"
    assert body["unit_callsign"] == "BRAVO-2"


def _get(server, alert_id, user):
    response = server.api(f"/alerts/{quote(alert_id, safe='')}", user)
    return response.json() if response.status_code == 200 else None


def test_api003_ids_with_slashes_and_spaces_are_url_encoded(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    alert = make_alert(id="urn:oid:2.49.0.1/RS 2026#7?x")
    send_to_stream(client, keys, [payload(alert)])
    body = wait_for(lambda: _get(server, alert["id"], user), what="the odd-id alert")
    assert body["id"] == alert["id"]
    assert server.api("/alerts/" + quote("no such id", safe=""), user).status_code == 404


def test_api004_a_repeated_id_is_recorded_once(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    first = make_alert(title="first version")
    again = dict(first, title="second sending")
    send_to_stream(client, keys, [payload(first), payload(again), payload(first)])
    marker = make_alert()
    send_to_stream(client, keys, [payload(marker)])  # processed after the three above
    wait_for(lambda: marker["id"] in server.alert_ids(user), what="the marker alert")
    assert _get(server, first["id"], user)["title"] == "first version"
    created = [e for e in client.xrange(keys.events) if json.loads(e[1][b"alert"])["alert"]["id"] == first["id"]]
    assert len(created) == 1


def test_api005_bad_input_is_dead_lettered_and_ingest_goes_on(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    before = client.xlen(keys.dead_letters)
    missing_title = make_alert()
    del missing_title["title"]
    bad = [b"not json", b"\xff\xfe\x00junk", b"[1,2]", json.dumps(make_alert(severity="apocalyptic")).encode(),
           json.dumps(make_alert(location={"lat": 123, "lon": 20})).encode(), b"",
           b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
           json.dumps(missing_title).encode(),
           json.dumps(make_alert(description="x" * 1_100_000)).encode(),
           json.dumps(make_alert(location=None, area={"type": "Polygon", "coordinates": [[[20, 41], [21, 42]]]})).encode()]
    send_to_stream(client, keys, bad)
    client.xadd(keys.inbox, {"body": "no payload field"})
    good = make_alert()
    send_to_stream(client, keys, [payload(good)])
    wait_for(lambda: good["id"] in server.alert_ids(user), what="the good alert after the bad ones")
    dead = client.xrange(keys.dead_letters)[before:]
    assert len(dead) == len(bad) + 1
    reasons = [fields[b"reason"].decode() for _, fields in dead]
    assert any("not JSON" in r for r in reasons)
    assert any("UTF-8" in r for r in reasons)
    assert any("severity" in r for r in reasons)
    assert any("lat" in r for r in reasons)
    assert any("hostile XML" in r for r in reasons)
    assert any("payload" in r and "field" in r for r in reasons)
    assert any("title" in r and "required" in r.lower() for r in reasons)
    assert any("too large" in r for r in reasons)
    assert any("area" in r for r in reasons)
    assert len(bad) >= 10
    assert dead[0][1][b"payload"] == b"not json"  # the raw payload is kept


def test_api006_filters_and_paging(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    tag = make_alert()["id"]
    alerts = [make_alert(id=f"{tag}-{i}", severity=sev, type=typ, exercise=ex,
                         reported_at=f"2020-01-0{i + 1}T10:00:00+00:00")
              for i, (sev, typ, ex) in enumerate([("critical", "cyber", False), ("low", "cyber", True),
                                                   ("critical", "hazmat", True)])]
    send_to_stream(client, keys, [payload(a) for a in alerts])
    wait_for(lambda: all(_get(server, a["id"], user) for a in alerts), what="the three alerts")
    window = {"since": "2020-01-01T00:00:00Z", "until": "2020-01-04T00:00:00Z"}
    assert server.alert_ids(user, severity="critical", **window) == {f"{tag}-0", f"{tag}-2"}
    assert server.alert_ids(user, type="cyber", exercise="exercise", **window) == {f"{tag}-1"}
    assert server.alert_ids(user, severity="critical,low", until="2020-01-02T00:00:00Z",
                            since="2019-12-31T00:00:00Z") == {f"{tag}-0"}
    page = server.api("/alerts", user, limit=2, offset=0, **window).json()
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [f"{tag}-2", f"{tag}-1"]
    assert server.api("/alerts", user, severity="apocalyptic").status_code == 422


def test_api007_summary_counts(server, users, redis_url):
    client, keys, user = redis.Redis.from_url(redis_url), Keys(server.prefix), users["duty-rs"]
    tag = make_alert()["id"]
    window = {"since": "2021-03-01T00:00:00Z", "until": "2021-03-02T00:00:00Z"}
    alerts = [make_alert(id=f"{tag}-{i}", severity=s, type=t, reported_at="2021-03-01T12:00:00Z",
                         location=loc)
              for i, (s, t, loc) in enumerate([("high", "cyber", {"lat": 44.82, "lon": 20.46}),
                                                ("high", "hazmat", {"lat": 42.67, "lon": 21.17}),
                                                ("low", "cyber", {"lat": 44.82, "lon": 20.46})])]
    send_to_stream(client, keys, [payload(a) for a in alerts])
    wait_for(lambda: all(_get(server, a["id"], user) for a in alerts), what="the summary alerts")
    summary = server.api("/summary", user, **window).json()
    assert summary["total_alerts"] == 3 and summary["open_alerts"] == 3
    assert summary["by_severity"] == {"critical": 0, "high": 2, "medium": 0, "low": 1}
    assert summary["by_type"]["cyber"] == 2 and summary["by_type"]["hazmat"] == 1
    assert summary["by_country"] == {"RS": 2, "XK": 1}


def test_api008_health_and_openapi(server, users):
    health = httpx.get(f"{server.url}/api/v1/health", timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}  # up or down, nothing more, anonymously
    officer = httpx.get(f"{server.url}/api/v1/health", headers=users["duty-rs"].headers, timeout=5).json()
    assert set(officer) == {"status", "reasons"}
    admin = httpx.get(f"{server.url}/api/v1/health", headers=users["admin-mk"].headers, timeout=5).json()
    assert admin["redis"] == "ok" and admin["inboxes"]["alerts"]["pending"] == 0
    streams = {w["stream"] for w in admin["workers"].values() if w["state"] == "running"}
    assert {f"{server.prefix}:alerts:inbox", f"{server.prefix}:assets:inbox"} <= streams
    spec = httpx.get(f"{server.url}/openapi.json", headers=users["duty-rs"].headers, timeout=5).json()
    for path in ("/api/v1/alerts", "/api/v1/alerts/{alert_id}", "/api/v1/summary", "/api/v1/health"):
        assert path in spec["paths"], path


def test_api_alert_json_shows_the_markings_the_centre_applies_not_the_raw_ones():
    """A client that trusts the top-level ``releasable_to`` must not re-share wider than the centre does:
    feed-routed (the producer said nothing), narrowed after arrival, or marked in a raw form."""
    from datetime import UTC, datetime

    from alerts.core.markings import Tlp
    from alerts.core.model import Alert, Placement, Routing, StoredAlert
    from dashboard.api.alerts import alert_json

    alert = Alert.model_validate(make_alert(releasable_to=["RS", "HR"], classification="nato  secret", tlp="TLP:RED"))
    stored = StoredAlert(alert=alert, placement=Placement(country="RS", countries=["RS"]), received_at=datetime.now(UTC),
                         routing=Routing(nation="RS", releasable_to=["RS"], classification="SECRET", tlp=Tlp.RED))
    body = alert_json(stored)
    assert (body["releasable_to"], body["classification"], body["tlp"]) == (["RS"], "SECRET", "RED")
    assert body["as_sent"] == {"releasable_to": ["RS", "HR"], "classification": "nato  secret", "tlp": "TLP:RED"}
    fed = StoredAlert(alert=Alert.model_validate(make_alert(releasable_to=None)), placement=Placement(),
                      received_at=datetime.now(UTC), routing=Routing(nation="RS", releasable_to=["RS", "BA"]))
    assert alert_json(fed)["releasable_to"] == ["RS", "BA"] and "as_sent" not in alert_json(fed)
