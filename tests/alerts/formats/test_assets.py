"""Response assets from files: GeoJSON and CSV import."""
from __future__ import annotations

import json
from datetime import timedelta

from alerts.formats.assets import parse_import
from tests.conftest import ASSET_TIME as NOW


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


def test_ast002_import_dates_each_asset_like_a_live_report():
    def unit(id_: str, updated_at: str | None) -> dict:
        properties = {"id": id_, "name": id_, "nation": "RS", "type": "medical_team", "speed_kmh": 60}
        if updated_at is not None:
            properties["updated_at"] = updated_at
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [20.46, 44.82]},
                "properties": properties}

    features = [unit("a-day-ahead", (NOW + timedelta(days=1)).isoformat()),
                unit("a-minute-ahead", (NOW + timedelta(minutes=1)).isoformat()),
                unit("year-1", "0001-01-01T00:00:00+00:00"),
                unit("earlier", (NOW - timedelta(hours=2)).isoformat()),
                unit("undated", None)]
    assets, errors = parse_import(json.dumps({"type": "FeatureCollection", "features": features}), "a.geojson",
                                  now=NOW)
    assert {a.id: a.updated_at for a in assets} == {"a-minute-ahead": NOW, "earlier": NOW - timedelta(hours=2),
                                                    "undated": NOW}
    assert [n for n, _ in errors] == [1, 3]
    assert "updated_at 2026-11-28T12:00:00+00:00 is 1 day, 0:00:00 ahead of the centre's clock" in errors[0][1]
    assert "updated_at '0001-01-01T00:00:00+00:00' is outside the accepted range" in errors[1][1]
    csv_text = f"id,name,nation,type,speed_kmh,lat,lon,updated_at\nx,X,RS,eod_team,40,44,20,{NOW + timedelta(days=1)}\n"
    assert "ahead of the centre's clock" in parse_import(csv_text, "a.csv", now=NOW)[1][0][1]
