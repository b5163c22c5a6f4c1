"""Assets on the map in headless Chromium: live positions, releasability, tasking from the page."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis

from alerts.store.assets import AssetStore
from alerts.store.keys import Keys
from alerts.store.producer import send_assets, send_to_stream
from layers.traces import ASSET_DOT, COVERAGE_AREA, COVERAGE_GAPS
from tests.browser.test_map_live import GRAPH, _wait_live
from tests.conftest import make_alert, payload, sign_in, wait_for
from tests.conftest import make_asset as asset

pytestmark = pytest.mark.browser

DOT = ASSET_DOT


def _asset_point(page, asset_id: str):
    return page.evaluate(
        f"""id => {{ const g = document.querySelector('{GRAPH}'); if (!g || !g.data || !g.data[{DOT}]) return null;
        const t = g.data[{DOT}]; const i = Array.from(t.customdata || []).indexOf('asset:' + id);
        return i < 0 ? null : [t.lat[i], t.lon[i]]; }}""", asset_id)


def test_asb001_a_live_position_update_moves_the_asset_on_the_map(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    store = AssetStore(client, keys)
    store.put_many([asset("asb-rs-helo", 44.0, 20.0, type_="utility_helicopter", nation="RS", releasable_to=None),
                    asset("asb-gr-secret", 40.6, 22.9, nation="GR", releasable_to=["GR"])])
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    wait_for(lambda: _asset_point(page, "asb-rs-helo"), what="the asset on the map")
    assert _asset_point(page, "asb-rs-helo") == pytest.approx([44.0, 20.0])
    assert _asset_point(page, "asb-gr-secret") is None
    page.evaluate("window.__notReloaded = true")
    now = datetime.now(UTC).isoformat()  # newer than the records (a report from the future would be refused)
    send_assets(client, keys, [json.dumps({"id": "asb-rs-helo", "position": {"lat": 44.3, "lon": 20.6},
                                           "updated_at": now}),
                               json.dumps({"id": "asb-gr-secret", "position": {"lat": 41.0, "lon": 23.0},
                                           "updated_at": now})])
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('{GRAPH}').data[{DOT}];"
        " const i = Array.from(t.customdata).indexOf('asset:asb-rs-helo'); return Math.abs(t.lat[i] - 44.3) < 1e-6; }",
        timeout=15_000)
    assert _asset_point(page, "asb-rs-helo") == pytest.approx([44.3, 20.6])
    assert _asset_point(page, "asb-gr-secret") is None
    assert "asb-gr-secret" not in page.content()
    assert page.evaluate("window.__notReloaded") is True


def test_asb002_selecting_an_incident_offers_the_nearest_assets_and_assign_works(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    AssetStore(client, keys).put(asset("asb-rs-eod", 42.01, 21.44, type_="eod_team", nation="RS",
                                       releasable_to=["ALL"]))
    alert = make_alert(type="terrorism", title="Suspicious device", location={"lat": 42.0, "lon": 21.43})
    send_to_stream(client, keys, [payload(alert)])
    wait_for(lambda: alert["id"] in server.alert_ids(users["duty-rs"]), what="the alert")
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    page.locator(f'[data-alert-id="{alert["id"]}"]').click()
    page.wait_for_selector('#suggested-assets [data-asset-id="asb-rs-eod"]', timeout=15_000)
    page.locator('#suggested-assets [data-asset-id="asb-rs-eod"] button').click()
    page.wait_for_selector('#assigned-assets [data-asset-id="asb-rs-eod"]', timeout=15_000)
    assert "committed" in page.inner_text("#tasking-message")
    stored = AssetStore(client, keys).get("asb-rs-eod")
    assert stored.status.value == "committed" and stored.assigned_to == alert["id"]


def test_asb003_the_coverage_layer_draws_the_reach_and_lists_the_gaps(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    # One fast medevac helicopter in Belgrade, seen by HR through ALL; 15 min at 120 km/h = 30 km.
    AssetStore(client, keys).put(asset("asb-medevac", 44.82, 20.46, type_="utility_helicopter", nation="RS",
                                       capabilities=["medevac"], releasable_to=["ALL"], speed_kmh=120))
    sign_in(page, server.url, users["lead-hr"])
    _wait_live(page)
    page.locator("#coverage-minutes input[value='15']").check()  # capability: medevac, the default
    page.locator("#layer-toggles input[value=coverage]").check()
    page.wait_for_function("() => (document.querySelector('#coverage-summary') || {}).textContent === "
                           "'1 ready asset(s) reach ' + (147 - document.querySelectorAll('#gap-list li').length)"
                           " + ' places; ' + document.querySelectorAll('#gap-list li').length + ' out of reach:'",
                           timeout=15_000)
    page.wait_for_function(f"() => (document.querySelector('{GRAPH}').data[{COVERAGE_AREA}].lon || []).length > 10 && "
                           f"document.querySelector('{GRAPH}').data[{COVERAGE_GAPS}].lon.length === "
                           "document.querySelectorAll('#gap-list li').length", timeout=15_000)
    assert page.inner_text("#coverage-summary").startswith("1 ready asset(s) reach ")
    gaps = page.locator("#gap-list li").all_inner_texts()
    assert "Belgrade (RS)" not in gaps and "Zagreb (HR)" in gaps
    drawn = page.evaluate(f"() => document.querySelector('{GRAPH}').data[{COVERAGE_GAPS}].lon.length")
    assert drawn == len(gaps)


def test_asb004_an_asset_taken_from_the_viewers_nation_leaves_the_open_map_and_comes_back_when_released(
        server, users, page, redis_url):
    """Its releasability narrowed (``asset_withdraw``): off the map at once, no reload; released again: back."""
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    store = AssetStore(client, keys)
    shared = asset("asb-mk-shared", 42.0, 21.4, nation="MK", releasable_to=["MK", "RS"])
    store.put(shared)
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    wait_for(lambda: _asset_point(page, "asb-mk-shared"), what="the asset on the map")
    page.evaluate("window.__notReloaded = true")
    store.put(shared.model_copy(update={"releasable_to": ["MK"]}))
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('{GRAPH}').data[{DOT}];"
        " const i = Array.from(t.customdata).indexOf('asset:asb-mk-shared'); return i >= 0 && t.lat[i] === null; }",
        timeout=15_000)
    assert _asset_point(page, "asb-mk-shared") == [None, None]
    store.put(shared)
    wait_for(lambda: _asset_point(page, "asb-mk-shared") == pytest.approx([42.0, 21.4]), 15, "the asset back")
    assert page.evaluate("window.__notReloaded") is True
