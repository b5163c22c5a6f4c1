"""The live map above its point limit (``CRISIS_MAP_POINTS_MAX``, ``layers.cells``): grid cells with counts,
points once zoomed in, a click on a cell zooms in, live alerts still arrive as points.

A server of its own with a limit of 30 points and 80 incidents: 60 around Skopje, 20 around Athens.
"""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from layers.incidents import SEVERITY_COLOURS
from layers.traces import INCIDENT_CELLS, INCIDENT_CORE, LIVE_CORE
from tests.browser.test_map_live import GRAPH, _wait_live, _wait_on_map
from tests.conftest import add_user, block_outside, make_alert, payload, serving, sign_in, wait_for

pytestmark = pytest.mark.browser

LIMIT = 30
SKOPJE, ATHENS = (21.43, 42.0), (23.73, 37.98)


@pytest.fixture(scope="module")
def crowded(redis_url):
    """A server with a small point limit, its duty officer, and the 80 incidents (``{"skopje", "athens"}``:
    alert dicts); the first of Skopje's is reported an hour before the rest (last in the list: not listed)."""
    for running in serving(redis_url, CRISIS_MAP_POINTS_MAX=str(LIMIT)):
        officer = add_user(redis_url, running.prefix, "duty-cells", "duty_officer", "RS")
        rng, now = random.Random(7), datetime.now(UTC)

        def around(place, n, **extra):
            return [make_alert(location={"lon": place[0] + rng.uniform(-0.01, 0.01),
                                         "lat": place[1] + rng.uniform(-0.01, 0.01)}, **extra) for _ in range(n)]

        skopje = around(SKOPJE, 1, reported_at=(now - timedelta(hours=1)).isoformat()) + \
            around(SKOPJE, 59, severity="critical")
        athens = around(ATHENS, 20, severity="low")
        send_to_stream(redis.Redis.from_url(redis_url), Keys(running.prefix),
                       [payload(a) for a in skopje + athens])
        wait_for(lambda: len(running.alert_ids(officer)) == 80, 30, "the 80 incidents")
        yield running, officer, {"skopje": skopje, "athens": athens}


def _trace(page, index: int, key: str) -> list:
    return page.evaluate(f"([i, k]) => Array.from(document.querySelector('{GRAPH}').data[i][k] || [])",
                         [index, key])


def _wait_cells(page) -> None:
    page.wait_for_function(
        f"i => {{ const g = document.querySelector('{GRAPH}'); return !!g && !!g.data && g.data.length > i"
        " && (g.data[i].text || []).length > 0; }", arg=INCIDENT_CELLS, timeout=30_000)


def _relayout(page, lon: float, lat: float, zoom: float) -> None:
    page.evaluate(f"([lon, lat, zoom]) => Plotly.relayout(document.querySelector('{GRAPH}'),"
                  " {'map.center': {lon: lon, lat: lat}, 'map.zoom': zoom})", [lon, lat, zoom])


def _zoom(page) -> float:
    return page.evaluate(f"() => document.querySelector('{GRAPH}')._fullLayout.map._subplot.map.getZoom()")


def test_cells001_above_the_limit_cells_with_counts_then_points_once_zoomed_in(crowded, browser):
    server, officer, alerts = crowded
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    attempted_outside, _served = block_outside(context)  # the counts are drawn without glyphs from outside
    page = context.new_page()
    sign_in(page, server.url, officer)
    _wait_live(page)
    _wait_cells(page)
    assert _trace(page, INCIDENT_CORE, "customdata") == []  # no incident drawn as a point
    counts = [int(text) for text in _trace(page, INCIDENT_CELLS, "text")]
    assert sum(counts) == 80 and max(counts) >= 59  # Skopje's incidents in one or two cells, with their count
    by_count = dict(zip(counts, page.evaluate(
        f"i => Array.from(document.querySelector('{GRAPH}').data[i].marker.color)", INCIDENT_CELLS)))
    assert by_count[max(counts)] == SEVERITY_COLOURS["critical"]  # the worst severity's colour

    _relayout(page, *ATHENS, 10)  # Athens alone in view: 20, below the limit
    athens = {a["id"] for a in alerts["athens"]}
    page.wait_for_function(
        f"ids => {{ const d = document.querySelector('{GRAPH}').data; const c = Array.from(d[{INCIDENT_CORE}]"
        f".customdata || []); return c.length === ids.length && ids.every(id => c.includes(id))"
        f" && (d[{INCIDENT_CELLS}].text || []).length === 0; }}", arg=sorted(athens), timeout=30_000)

    _relayout(page, *SKOPJE, 10)  # Skopje: 60 in view, above the limit: cells again, smaller
    page.wait_for_function(
        f"() => {{ const d = document.querySelector('{GRAPH}').data; return (d[{INCIDENT_CELLS}].text || [])"
        f".length > 0 && (d[{INCIDENT_CORE}].customdata || []).length === 0; }}", timeout=30_000)
    assert sum(int(t) for t in _trace(page, INCIDENT_CELLS, "text")) == 60
    assert attempted_outside == []
    context.close()


def test_cells002_a_click_on_a_cell_zooms_in_to_it(crowded, page):
    server, officer, _alerts = crowded
    sign_in(page, server.url, officer)
    _wait_live(page)
    _wait_cells(page)
    page.wait_for_function("() => Number(document.body.dataset.mapFitted || 0) >= 1", timeout=10_000)
    before = _zoom(page)
    lon, lat = page.evaluate(f"""i => {{ const d = document.querySelector('{GRAPH}')._fullData[i];
        const k = Array.from(d.text).map(Number).indexOf(Math.min(...Array.from(d.text).map(Number)));
        return [d.lon[k], d.lat[k]]; }}""", INCIDENT_CELLS)  # Athens' cell: no other feature there
    x, y = page.evaluate(
        f"""([lon, lat]) => {{ const m = document.querySelector('{GRAPH}')._fullLayout.map._subplot.map;
            const p = m.project([lon, lat]), r = m.getCanvas().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }}""", [lon, lat])
    builds = int(page.evaluate("() => Number(document.body.dataset.mapBuilds || 0)"))
    page.mouse.click(x, y)
    page.wait_for_function("() => Number(document.body.dataset.mapCellZooms || 0) >= 1", timeout=10_000)
    page.wait_for_function("n => Number(document.body.dataset.mapBuilds || 0) > n", arg=builds, timeout=30_000)
    # the map rebuilt for the new view, and kept it
    page.wait_for_function(f"() => !document.querySelector('{GRAPH}').classList.contains('dash-graph--pending')"
                           " && !document.querySelector('[data-dash-is-loading]')", timeout=30_000)
    assert _zoom(page) == pytest.approx(before + 2)
    centre = page.evaluate(f"() => document.querySelector('{GRAPH}')._fullLayout.map._subplot.map.getCenter()")
    assert (centre["lng"], centre["lat"]) == (pytest.approx(lon, abs=1e-3), pytest.approx(lat, abs=1e-3))
    assert page.evaluate("() => !document.querySelector('#details-card')")  # nothing selected


def test_cells003_while_cells_are_shown_live_alerts_arrive_as_points_and_changes_add_none(crowded, page, redis_url):
    server, officer, alerts = crowded
    sign_in(page, server.url, officer)
    _wait_live(page)
    _wait_cells(page)
    counted = alerts["skopje"][0]  # in a cell, not in the list (50 newer ones are)
    assert page.evaluate("id => !document.querySelector(`[data-alert-id=\"${id}\"]`)", counted["id"])
    applied = int(page.evaluate("() => Number(document.body.dataset.liveApplied || 0)"))
    builds = int(page.evaluate("() => Number(document.body.dataset.builds || 0)"))
    assert httpx.post(f"{server.url}/api/v1/alerts/{counted['id']}/ack", headers=officer.headers,
                      timeout=10).status_code == 200
    page.wait_for_function("n => Number(document.body.dataset.liveApplied || 0) > n", arg=applied, timeout=15_000)
    # the change is not drawn, but its cell is counted again within seconds (breaker: a withdrawn alert stayed
    # counted until the 60 s watchdog)
    page.wait_for_function("() => Number(document.body.dataset.recounts || 0) >= 1", timeout=15_000)
    page.wait_for_function("n => Number(document.body.dataset.builds || 0) > n", arg=builds, timeout=30_000)
    _wait_live(page)
    _wait_cells(page)
    live = make_alert(title="Arrived while aggregated", location={"lon": SKOPJE[0], "lat": SKOPJE[1]})
    send_to_stream(redis.Redis.from_url(redis_url), Keys(server.prefix), [payload(live)])
    _wait_on_map(page, [live["id"]])  # a new alert is a live point, whatever the build drew
    assert _trace(page, LIVE_CORE, "customdata") == [live["id"]]  # the change drew no point of its own
