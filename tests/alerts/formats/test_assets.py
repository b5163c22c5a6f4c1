"""Response assets from files: GeoJSON and CSV import."""
from __future__ import annotations

import json

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
