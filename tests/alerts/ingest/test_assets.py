"""Asset ingest on a real Redis: live updates merged, bad payloads dead-lettered."""
from __future__ import annotations

import json
from datetime import timedelta

from alerts.store.assets import AssetStore
from alerts.store.producer import send_assets
from tests.conftest import ASSET_TIME as NOW
from tests.conftest import asset_pipeline, stream_ingest
from tests.conftest import make_asset as asset


def test_ast006_live_updates_merge_and_bad_payloads_are_dead_lettered(client, keys):
    store = AssetStore(client, keys)
    store.put(asset("rs-1", 44.0, 20.0))
    worker = stream_ingest(asset_pipeline(client, keys, max_bytes=2000), assets=True)
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


def test_ast007_reports_are_clamped_within_the_skew_refused_beyond_and_older_ones_counted(client, keys):
    from alerts.store.heartbeats import Heartbeat

    store = AssetStore(client, keys)
    store.put(asset("rs-1", 44.0, 20.0, updated_at=(NOW - timedelta(hours=1)).isoformat()))
    clock = {"now": NOW}
    heartbeat = Heartbeat(client, keys, "h/1/asset-ingest-stream", keys.assets_inbox)
    worker = stream_ingest(asset_pipeline(client, keys, clock=lambda: clock["now"]), assets=True,
                           heartbeat=heartbeat)
    worker.ensure_group()

    def update(lat: float, at) -> bytes:
        return json.dumps({"id": "rs-1", "position": {"lat": lat, "lon": 20.0}, "updated_at": at}).encode()

    send_assets(client, keys, [update(44.1, (NOW + timedelta(seconds=90)).isoformat()),  # a fast clock
                               update(44.9, (NOW + timedelta(days=1)).isoformat()),  # a wrong clock
                               update(44.8, "0001-01-01T00:00:00Z")])  # a broken one
    assert worker.run_once(block_ms=500) == 3
    first = store.get("rs-1")
    assert first.position.lat == 44.1 and first.updated_at == NOW  # clamped to the centre's clock
    clock["now"] = NOW + timedelta(seconds=40)
    send_assets(client, keys, [update(44.2, (NOW + timedelta(seconds=30)).isoformat()),  # after it, as clamped
                               update(44.3, (NOW - timedelta(minutes=30)).isoformat())])  # older: skipped
    assert worker.run_once(block_ms=500) == 2
    assert store.get("rs-1").position.lat == 44.2
    reasons = [f[b"reason"].decode() for _, f in client.xrange(keys.assets_dead)]
    assert len(reasons) == 2 and "1 day, 0:00:00 ahead of the centre's clock" in reasons[0]
    assert "updated_at '0001-01-01T00:00:00+00:00' is outside the accepted range" in reasons[1]  # not skipped
    assert heartbeat.counts == {"stored": 2, "duplicates": 0, "dead_letters": 2, "skipped_older": 1}
