"""An asset taken from a nation (its releasability narrowed, or its owner changed) leaves that nation's open
maps at once (``asset_withdraw``), and no nation that never saw it learns of it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import Stream, add_user, make_asset


@pytest.fixture(scope="module")
def viewers(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    return {nation: add_user(url, prefix, f"awd-{nation.lower()}", "duty_officer", nation) for nation in ("RS", "AL")}


@contextmanager
def stream(app_server, user, path: str = "/live/assets") -> Iterator[Stream]:
    with httpx.stream("GET", f"{app_server.url}{path}", headers=user.headers,
                      timeout=httpx.Timeout(15, read=15)) as response:
        assert response.status_code == 200, response.read()
        yield Stream(response)


def _about(live: Stream, marker: str) -> list[tuple[str, str]]:
    """Every event up to the ``asset`` event of ``marker`` (an asset released to all, put last), as
    ``(name, asset id)``."""
    seen = []
    while True:
        name, data = live.next_event()
        seen.append((name, data.get("id")))
        if (name, data.get("id")) == ("asset", marker):
            return seen


def test_awd001_narrowed_releasability_withdraws_the_asset_from_the_nation_that_lost_it(app_server, viewers):
    assets = app_server.services.centre.assets
    unit = make_asset("awd-amb-1", 42.0, 21.4, nation="MK", releasable_to=["MK", "RS"])
    with stream(app_server, viewers["RS"]) as rs, stream(app_server, viewers["AL"], "/live/map") as al:
        assets.put(unit)
        assert rs.until("awd-amb-1", "asset")["id"] == "awd-amb-1"
        assets.put(unit.model_copy(update={"releasable_to": ["MK"]}))
        assert rs.until("awd-amb-1", "asset_withdraw") == {"id": "awd-amb-1"}
        assets.put(make_asset("awd-amb-1", 42.1, 21.5, nation="MK", releasable_to=["MK"]))
        assets.put(make_asset("awd-marker-1", 44.0, 20.0))
        assert _about(rs, "awd-marker-1") == [("asset", "awd-marker-1")]  # moved unseen: nothing about it
        assert _about(al, "awd-marker-1") == [("asset", "awd-marker-1")]  # never released to AL: never named
        assets.put(unit.model_copy(update={"releasable_to": ["MK", "RS"]}))
        assert rs.until("awd-amb-1", "asset")["id"] == "awd-amb-1"  # released again: back on the map


def test_awd002_a_new_owner_withdraws_an_asset_released_only_to_its_owner(app_server, viewers):
    assets = app_server.services.centre.assets
    unit = make_asset("awd-own-1", 43.0, 21.0, nation="RS", releasable_to=None)
    with stream(app_server, viewers["RS"], "/live/map") as rs:
        assets.put(unit)
        assert rs.until("awd-own-1", "asset")["id"] == "awd-own-1"
        assets.put(unit.model_copy(update={"nation": "MK"}))
        assert rs.until("awd-own-1", "asset_withdraw") == {"id": "awd-own-1"}


def test_awd003_the_stream_entry_says_who_could_see_the_asset_before_only_when_that_changed(app_server):
    from alerts.store.assets import parse_asset_event

    client, keys = app_server.services.client, app_server.services.keys
    assets = app_server.services.centre.assets
    unit = make_asset("awd-rec-1", 41.0, 20.5, nation="AL", releasable_to=["AL"])
    first = assets.put(unit)
    moved = assets.put(make_asset("awd-rec-1", 41.1, 20.6, nation="AL", releasable_to=["AL"]))
    widened = assets.put(unit.model_copy(update={"releasable_to": ["ALL"]}))
    owned = assets.put(unit.model_copy(update={"releasable_to": None}))
    shared = assets.put(unit.model_copy(update={"releasable_to": ["AL", "MK"]}))
    events = {eid.decode(): parse_asset_event(eid, fields) for eid, fields in client.xrange(keys.assets_events)}
    assert events[first].released_before is None and events[moved].released_before is None
    assert events[widened].released_before == ("AL", ["AL"])
    assert events[owned].released_before == ("AL", ["ALL"])
    assert events[shared].released_before == ("AL", None)  # null in the record: the owner only
