"""The leadership situation page in headless Chromium: tiles, trend, choropleths, table, exports."""
from __future__ import annotations

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import make_alert, payload, sign_in, wait_for

pytestmark = pytest.mark.browser


def test_sip001_the_situation_page_shows_its_main_elements(server, users, page, redis_url, tmp_path):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    fresh = [make_alert(severity="critical", title="Bridge collapse, casualties reported", type="mass_casualty"),
             make_alert(severity="high", location={"lat": 44.82, "lon": 20.46}, exercise=True)]
    send_to_stream(client, keys, [payload(a) for a in fresh])
    leader = users["lead-hr"]
    wait_for(lambda: fresh[0]["id"] in server.alert_ids(leader), what="the fresh alerts")
    page.set_viewport_size({"width": 1400, "height": 1400})
    sign_in(page, server.url, leader, path="/situation")
    page.wait_for_selector("#sit-open-table", timeout=30_000)
    assert int(page.inner_text("#tile-critical")) >= 1
    assert "Bridge collapse" in page.inner_text("#sit-open-table")
    assert "EXERCISE" not in page.inner_text("#sit-open-table")  # leadership starts on real only
    page.click("#sit-exercise label:has-text('real and exercise')")
    page.wait_for_function("() => document.querySelector('#sit-open-table').innerText.includes('EXERCISE')",
                           timeout=15_000)
    page.wait_for_function("() => document.querySelector('#sit-trend .js-plotly-plot')"
                           " && document.querySelector('#sit-trend .js-plotly-plot').data.length >= 1")
    page.wait_for_selector("#sit-countries canvas.maplibregl-canvas", timeout=30_000)
    page.wait_for_selector("#sit-regions canvas.maplibregl-canvas", timeout=30_000)
    assert page.locator("#export-csv").get_attribute("href").startswith("/api/v1/sitrep?format=csv")
    shot = tmp_path / "situation.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    for element in ("#tile-critical", "#sit-trend", "#sit-countries", "#sit-regions", "#sit-open-table",
                    "#classification-top", "#classification-bottom"):
        box = page.locator(element).bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, element
    responder = page.context.browser.new_context().new_page()
    sign_in(responder, server.url, users["resp-gr"], path="/situation")
    responder.wait_for_selector("#sit-open-table", timeout=30_000)
    assert responder.locator("#export-csv").count() == 0  # no export right: no export links
    responder.context.close()
