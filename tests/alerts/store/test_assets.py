"""Asset records on a real Redis: tasking is compare-and-set, a feed cannot undo it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from alerts.core.assets import NotAssigned, NotReady, assigned, released
from alerts.store.assets import AssetStore
from tests.conftest import ASSET_TIME as NOW
from tests.conftest import asset_pipeline
from tests.conftest import make_asset as asset


def test_ast007_assign_and_release_rules_and_feed_cannot_undo_a_tasking(client, keys):
    store = AssetStore(client, keys)
    store.put(asset("rs-1", 44.0, 20.0))
    _, after = store.change("rs-1", lambda a: assigned(a, "alert-1", NOW))
    assert after.status.value == "committed" and after.assigned_to == "alert-1"
    with pytest.raises(NotReady):
        store.change("rs-1", lambda a: assigned(a, "alert-2", NOW))
    with pytest.raises(NotAssigned):
        store.change("rs-1", lambda a: released(a, "alert-2", NOW))
    pipeline = asset_pipeline(client, keys)
    pipeline.process([("channel", json.dumps({"id": "rs-1", "status": "ready",
                                              "position": {"lat": 44.1, "lon": 20.1},
                                              "updated_at": (NOW + timedelta(hours=1)).isoformat()}).encode())])
    current = store.get("rs-1")
    assert current.status.value == "committed" and current.assigned_to == "alert-1" and current.position.lat == 44.1
    _, back = store.change("rs-1", lambda a: released(a, "alert-1", NOW))
    assert back.status.value == "ready" and back.assigned_to is None
    assert store.change("nope", lambda a: assigned(a, "alert-1", NOW)) is None
    assert client.xlen(keys.assets_events) == 4
