"""CoT position reports (real ATAK captures) move the assets whose id is the device uid, through asset ingest."""
from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import DATA, asset_pipeline
from alerts.store.assets import AssetStore
from alerts.core.assets import Asset

COT = DATA / "cot"


def _asset(asset_id: str) -> Asset:
    return Asset.model_validate({
        "id": asset_id, "name": "Recce team", "nation": "HR", "type": "military_police", "capabilities": [],
        "status": "ready", "home_base": {"lat": 45.8, "lon": 15.97}, "position": {"lat": 45.8, "lon": 15.97},
        "speed_kmh": 50, "releasable_to": ["ALL"], "updated_at": datetime(2020, 1, 1, tzinfo=UTC).isoformat()})


def test_cpo001_a_position_report_moves_the_asset_with_that_uid(client, keys):
    store = AssetStore(client, keys)
    store.put(_asset("deccf9b1-ee37-4205-a235-a6d527fc7c24"))  # the uid in fts_a-f-G.xml
    result = asset_pipeline(store.client, store.keys).process([("cot", (COT / "fts_a-f-G.xml").read_bytes())])
    assert [a.id for a in result.accepted] == ["deccf9b1-ee37-4205-a235-a6d527fc7c24"] and not result.dead
    moved = store.get("deccf9b1-ee37-4205-a235-a6d527fc7c24")
    assert (moved.position.lat, moved.position.lon) == (44.2198868, -66.1382602)
    assert moved.updated_at == datetime(2020, 2, 8, 18, 11, 34, tzinfo=UTC)


def test_cpo002_reports_without_a_fix_markers_and_unknown_units_are_dead_lettered(client, keys):
    store = AssetStore(client, keys)
    result = asset_pipeline(store.client, store.keys).process([
        ("cot", (COT / "fts_a-f-G-U-C.xml").read_bytes()),  # an ATAK PLI without GPS fix
        ("cot", (COT / "fts_b-m-p-s-m.xml").read_bytes()),  # a spot-map marker
        ("cot", (COT / "fts_a-u-A-M-F.xml").read_bytes()),  # a position of a unit we do not know
        ("cot", b"<?xml version='1.0'?><!DOCTYPE e [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><event>&x;</event>"),
    ])
    reasons = [reason for _, reason in result.dead]
    assert len(reasons) == 4 and not result.accepted
    assert "no GPS fix" in reasons[0]
    assert "not a position report" in reasons[1]
    assert "hostile XML" in reasons[3]
    assert client.xlen(keys.assets_dead) == 4


def test_cpo003_a_position_report_in_a_declared_8_bit_encoding_is_read_like_an_alert(client, keys):
    store = AssetStore(client, keys)
    store.put(_asset("ANDROID-cyr-1"))
    report = ('<?xml version="1.0" encoding="windows-1251"?><event version="2.0" uid="ANDROID-cyr-1" type="a-f-G-U-C" '
              'time="2026-11-29T10:00:00Z" start="2026-11-29T10:00:00Z" stale="2026-11-29T10:05:00Z" how="m-g">'
              '<point lat="42.7" lon="23.3" hae="500" ce="5" le="9999999"/>'
              '<detail><contact callsign="Сокол-1"/></detail></event>').encode("windows-1251")
    result = asset_pipeline(client, keys, clock=lambda: datetime(2026, 11, 29, 10, 0, 30, tzinfo=UTC)).process(
        [("cot", report)])
    assert not result.dead and [a.id for a in result.accepted] == ["ANDROID-cyr-1"]
    assert store.get("ANDROID-cyr-1").position.lat == 42.7
