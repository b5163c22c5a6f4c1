"""Response assets: import formats, live updates and dead letters (real Redis), nearest-asset ranking, coverage."""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from alerts.asset_ingest import AssetPipeline, asset_stream_ingest, send_assets
from alerts.asset_store import AssetStore, NotAssigned, NotReady
from alerts.assets import Asset, AssetTable, parse_import, suggest
from alerts.coverage import Places, coverage
from tests.conftest import ROOT

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def asset(id_: str, lat: float, lon: float, type_: str = "medical_team", nation: str = "RS", **extra) -> Asset:
    doc = {"id": id_, "name": f"Unit {id_}", "nation": nation, "type": type_, "capabilities": [],
           "status": "ready", "home_base": {"lat": lat, "lon": lon}, "position": {"lat": lat, "lon": lon},
           "speed_kmh": 60, "releasable_to": ["ALL"], "updated_at": NOW.isoformat()}
    doc.update(extra)
    return Asset.model_validate(doc)


def haversine_km(lat1, lon1, lat2, lon2, r=6371.0088) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def test_ast001_geojson_and_csv_import():
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [20.46, 44.82]},
         "properties": {"id": "rs-med-1", "name": "Med 1", "nation": "rs", "type": "medical_team",
                        "capabilities": ["trauma_care"], "speed_kmh": 70}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [21.9, 43.3]},
         "properties": {"id": "rs-bad", "name": "Bad", "nation": "RS", "type": "tank", "speed_kmh": 40}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "properties": {}},
    ]}
    assets, errors = parse_import(json.dumps(geojson), "oob.geojson", now=NOW)
    assert [a.id for a in assets] == ["rs-med-1"]
    first = assets[0]
    assert (first.position.lat, first.position.lon) == (44.82, 20.46) and first.home_base == first.position
    assert first.nation == "RS" and first.status.value == "ready" and first.releasable_to is None
    assert first.visible_to("RS") and not first.visible_to("GR")  # missing releasable_to: own nation only
    assert [n for n, _ in errors] == [2, 3] and "type" in errors[0][1] and "Point" in errors[1][1]

    csv_text = ("id,name,nation,type,capabilities,speed_kmh,lat,lon,home_lat,home_lon,releasable_to,status\n"
                "gr-helo,Helo,GR,utility_helicopter,medevac;search_and_rescue,220,40.64,22.94,39.64,22.42,GR|AL,ready\n"
                "gr-x,X,GR,eod_team,,abc,40,22,,,,\n")
    assets, errors = parse_import(csv_text.encode(), "oob.csv", now=NOW)
    assert [a.id for a in assets] == ["gr-helo"]
    helo = assets[0]
    assert helo.capabilities == ["medevac", "search_and_rescue"] and helo.releasable_to == ["GR", "AL"]
    assert (helo.home_base.lat, helo.home_base.lon) == (39.64, 22.42) and helo.speed_kmh == 220
    assert errors and errors[0][0] == 2 and "speed_kmh" in errors[0][1]
    assert parse_import("name,x\n", "a.csv")[1][0][1].startswith("CSV needs lat and lon")


def test_ast002_cli_import_writes_records_events_and_audit(redis_url, prefix, client, keys, tmp_path):
    from alerts.audit import AuditLog
    from dashboard.cli import main

    path = tmp_path / "oob.csv"
    path.write_text("id,name,nation,type,speed_kmh,lat,lon\nmk-1,One,MK,eod_team,60,42,21.4\n"
                    "mk-2,Two,MK,cbrn_team,60,41.9,21.5\n", encoding="utf-8")
    assert main(["assets", "import", str(path), "--redis-url", redis_url, "--prefix", prefix]) == 0
    store = AssetStore(client, keys)
    assert {a.id for a in store.all()} == {"mk-1", "mk-2"}
    assert client.xlen(keys.assets_events) == 2
    assert AuditLog(client, keys).read(1)[0].action == "asset.import"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,nation,type,speed_kmh,lat,lon\nmk-3,Three,MK,eod_team,-5,42,21.4\n", encoding="utf-8")
    assert main(["assets", "import", str(bad), "--redis-url", redis_url, "--prefix", prefix]) == 2
    assert store.get("mk-3") is None


def test_ast003_nearest_ranking_matches_an_independent_geodesic_computation():
    incident = (44.0, 20.0)  # lat, lon
    layout = [("a", 44.5, 20.0), ("b", 44.0, 21.2), ("c", 43.1, 19.0), ("d", 44.05, 20.05), ("e", 45.9, 22.0)]
    assets = [asset(i, lat, lon, speed_kmh=50 + 10 * n) for n, (i, lat, lon) in enumerate(layout)]
    assets.append(asset("unsuitable", 44.0, 20.01, type_="cyber_response_team"))
    assets.append(asset("busy", 44.0, 20.02, status="maintenance"))
    found = suggest(AssetTable(assets), "mass_casualty", incident[1], incident[0], "RS", limit=10)
    expected = sorted(layout, key=lambda t: haversine_km(*incident, t[1], t[2]))
    assert [s["asset"].id for s in found] == [t[0] for t in expected]
    for s in found:
        km = haversine_km(*incident, s["asset"].position.lat, s["asset"].position.lon)
        assert s["distance_km"] == pytest.approx(km, rel=0.006)  # ellipsoid vs sphere
        assert s["eta_minutes"] == pytest.approx(s["distance_km"] / s["asset"].speed_kmh * 60)
    assert [s["asset"].id for s in suggest(AssetTable(assets), "mass_casualty", 20.0, 44.0, "RS", 2)] == ["d", "a"]


def test_ast004_suggestions_respect_releasability_for_three_nations():
    assets = [asset("rs-own", 44.0, 20.1, nation="RS", releasable_to=None),
              asset("gr-shared", 44.1, 20.1, nation="GR", releasable_to=["GR", "RS"]),
              asset("hr-all", 44.2, 20.1, nation="HR", releasable_to=["ALL"])]
    table = AssetTable(assets)
    ids = lambda nation: [s["asset"].id for s in suggest(table, "hazmat", 20.0, 44.0, nation)]  # noqa: E731
    assert ids("RS") == ["rs-own", "gr-shared", "hr-all"]
    assert ids("GR") == ["gr-shared", "hr-all"]
    assert ids("HR") == ["hr-all"]


def test_ast005_coverage_gaps_on_a_known_layout():
    places = Places.from_points(["near", "edge-in", "far", "other"], ["RS", "RS", "RS", "BG"],
                                [20.0, 20.0, 20.0, 23.0], [44.0, 44.40, 45.5, 42.7])
    helo = asset("h", 44.0, 20.0, type_="utility_helicopter", capabilities=["medevac"], speed_kmh=100)
    slow = asset("s", 42.7, 23.0, type_="medical_team", capabilities=["medevac"], status="committed")
    # 30 min at 100 km/h = 50 km: "edge-in" is 44.5 km north, "far" 167 km, the BG place's only asset is committed.
    result = coverage([helo, slow], "medevac", 30, places)
    assert result.assets == ["h"] and result.covered == 2
    assert [g["name"] for g in result.gaps] == ["far", "other"]
    minx, miny, maxx, maxy = result.area.bounds
    assert maxy - 44.0 == pytest.approx(50 / 111.1, rel=0.02)  # the disc's radius, back in degrees of latitude
    assert [g["name"] for g in coverage([helo], "medevac", 120, places).gaps] == ["other"]
    assert len(coverage([helo], "cbrn", 120, places).gaps) == 4
    real = Places.from_assets(ROOT / "assets")
    assert len(real.names) > 100 and set(real.countries) <= {"AL", "BA", "BG", "HR", "GR", "XK", "ME", "MK",
                                                              "RO", "RS", "SI"}


def test_ast006_live_updates_merge_and_bad_payloads_are_dead_lettered(client, keys):
    store = AssetStore(client, keys)
    store.put(asset("rs-1", 44.0, 20.0))
    worker = asset_stream_ingest(AssetPipeline(store, max_bytes=2000))
    worker.ensure_group()
    later = (NOW + timedelta(minutes=5)).isoformat()
    earlier = (NOW - timedelta(minutes=5)).isoformat()
    bad = [
        b"not json",
        b"[1, 2]",
        json.dumps({"id": "rs-1", "position": {"lat": 95, "lon": 20}}).encode(),
        json.dumps({"id": "ghost", "position": {"lat": 44, "lon": 20}}).encode(),
        json.dumps({"id": "rs-2", "name": "x", "nation": "RS", "type": "spaceship", "speed_kmh": 5}).encode(),
        json.dumps({"id": "rs-1", "colour": "red"}).encode(),
        b"{" + b" " * 3000 + b"}",
        b"\xff\xfe",
    ]
    good = [json.dumps({"id": "rs-1", "position": {"lat": 44.5, "lon": 20.5}, "updated_at": later}).encode(),
            json.dumps({"id": "rs-1", "position": {"lat": 1, "lon": 1}, "updated_at": earlier}).encode()]
    send_assets(client, keys, bad + good)
    client.xadd(keys.assets_inbox, {"wrong": "field"})
    assert worker.run_once(block_ms=500) == len(bad) + len(good) + 1
    moved = store.get("rs-1")
    assert (moved.position.lat, moved.position.lon) == (44.5, 20.5)  # the stale one did not move it back
    dead = client.xrange(keys.assets_dead)
    reasons = [f[b"reason"].decode() for _, f in dead]
    assert len(dead) == len(bad) + 1
    for fragment in ("not JSON", "not a JSON object", "position.lat", "unknown asset 'ghost'", "type",
                     "colour", "too large", "not UTF-8", "no 'payload' field"):
        assert any(fragment in r for r in reasons), (fragment, reasons)
    assert client.xpending(keys.assets_inbox, keys.assets_ingest_group)["pending"] == 0


def test_ast007_assign_and_release_rules_and_feed_cannot_undo_a_tasking(client, keys):
    store = AssetStore(client, keys)
    store.put(asset("rs-1", 44.0, 20.0))
    _, after = store.assign("rs-1", "alert-1", NOW)
    assert after.status.value == "committed" and after.assigned_to == "alert-1"
    with pytest.raises(NotReady):
        store.assign("rs-1", "alert-2", NOW)
    with pytest.raises(NotAssigned):
        store.release("rs-1", "alert-2", NOW)
    pipeline = AssetPipeline(store)
    pipeline.process([("channel", json.dumps({"id": "rs-1", "status": "ready",
                                              "position": {"lat": 44.1, "lon": 20.1},
                                              "updated_at": (NOW + timedelta(hours=1)).isoformat()}).encode())])
    current = store.get("rs-1")
    assert current.status.value == "committed" and current.assigned_to == "alert-1" and current.position.lat == 44.1
    _, released = store.release("rs-1", "alert-1", NOW)
    assert released.status.value == "ready" and released.assigned_to is None
    assert store.assign("nope", "alert-1", NOW) is None
    assert client.xlen(keys.assets_events) == 4
