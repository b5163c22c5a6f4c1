"""The duty officer's map in a real headless Chromium, against a running server on real Redis."""
from __future__ import annotations

import json

import httpx
import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_channel, send_to_stream
from layers.traces import INCIDENT_CORE, LIVE_CORE
from tests.conftest import block_outside, make_alert, payload, serving, sign_in, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(redis_url):
    """The module's server, with room for every incident as a point: map006 adds 10,000 to those of the other
    tests, which would otherwise pass the default ``CRISIS_MAP_POINTS_MAX`` (10,000) and be drawn as grid
    cells (``tests/browser/test_map_cells.py``). Set for the whole module: map004 restarts the server."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRISIS_MAP_POINTS_MAX", "20000")
        yield from serving(redis_url)

GRAPH = "#incident-map .js-plotly-plot"


def _wait_item(page, selector: str, timeout_s: int) -> None:
    """Until an element matching ``selector`` is in the page. (``wait_for_selector`` timed out under load
    with the element there: the live list draws itself anew as events arrive, and Playwright's handle on a
    replaced element never settled; the page's own ``querySelector`` does not race with that.)"""
    page.wait_for_function("sel => !!document.querySelector(sel)", arg=selector, timeout=timeout_s * 1000)


def _live_ids(page) -> list[str]:
    return page.evaluate(f"() => (document.querySelector('{GRAPH}').data[{LIVE_CORE}].customdata || [])")


def _all_map_ids(page) -> list[str]:
    return page.evaluate(
        f"() => document.querySelector('{GRAPH}').data.flatMap(t => Array.from(t.customdata || []))"
    )


def _wait_on_map(page, ids: list[str]) -> None:
    """Wait until the map's live traces hold these ids (the graph redraws after the list)."""
    page.wait_for_function(
        f"ids => {{ const g = document.querySelector('{GRAPH}'); if (!g || !g.data) return false;"
        f" const d = g.data[{LIVE_CORE}].customdata || []; return ids.every(id => Array.from(d).includes(id)); }}",
        arg=ids, timeout=15_000)


MAP_READY = (
    f"() => {{ const g = document.querySelector('{GRAPH}');"
    " const m = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot.map;"
    " return !!m && m.loaded() && m.getStyle().layers.length >= 4; }"
)


#: Every outline source of the map (the layout's GeoJSON layers, sources ``...-map-<n>``) has loaded its features.
OUTLINES_LOADED = (  # false (not an error) while the map or its style is still being built
    f"() => {{ try {{ const g = document.querySelector('{GRAPH}'); const m = g._fullLayout.map._subplot.map;"
    " const s = m.getStyle().sources; const ids = Object.keys(s).filter(id => /-map-\\d+$/.test(id));"
    " return ids.length >= 3 && ids.every(id => m.isSourceLoaded(id) && typeof s[id].data === 'object'"
    " && s[id].data.features.length > 0); } catch (e) { return false; } }"
)


def _wait_live(page, ready_ms: int = 30_000) -> None:
    """The live stream is open and the map has loaded its boundaries (within ``ready_ms``)."""
    page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=20_000)
    page.wait_for_function(MAP_READY, timeout=ready_ms)


def _publish_channel(client, keys, alert) -> None:
    wait_for(lambda: client.pubsub_numsub(keys.alerts_channel)[0][1] >= 1, what="ingest to subscribe")
    assert send_to_channel(client, keys, [payload(alert)]) >= 1


def test_map001_air_gapped_map_renders_without_any_outside_request(server, users, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    attempted_outside, served_locally = block_outside(context)
    page = context.new_page()
    sign_in(page, server.url, users["duty-rs"])
    page.wait_for_selector(f"{GRAPH} canvas.maplibregl-canvas", timeout=30_000)
    page.wait_for_function(MAP_READY, timeout=30_000)
    assert any(url.endswith("geo/admin0_ne50m.geojson") for url in served_locally)
    assert any(url.endswith("geo/admin1.geojson") for url in served_locally)
    assert attempted_outside == []
    assert page.inner_text("#classification-top") == "UNCLASSIFIED"
    context.close()


def test_map002_channel_and_stream_alerts_appear_live_without_reload(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    page.evaluate("window.__notReloaded = true")
    by_channel = make_alert(title="Live via channel", severity="critical", type="terrorism")
    by_stream = make_alert(title="Live via stream", exercise=True)
    _publish_channel(client, keys, by_channel)
    send_to_stream(client, keys, [payload(by_stream)])
    page.wait_for_function(
        "ids => ids.every(id => document.querySelector(`[data-alert-id=\"${id}\"]`))",
        arg=[by_channel["id"], by_stream["id"]], timeout=15_000)
    assert page.evaluate("window.__notReloaded") is True
    _wait_on_map(page, [by_channel["id"], by_stream["id"]])
    exercise_item = page.locator(f'[data-alert-id="{by_stream["id"]}"]')
    assert "EXERCISE" in exercise_item.inner_text()
    exercise_item.click()
    page.wait_for_selector("#details-card", timeout=10_000)
    assert "Live via stream" in page.inner_text("#details-card")
    assert "North Macedonia" in page.inner_text("#details-card")


def test_map003_live_push_respects_releasability(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    secret_rs = make_alert(title="RS eyes only", releasable_to=["RS"], source="RS")
    old_secret = make_alert(title="Old RS eyes only", releasable_to=["RS"], source="RS")
    send_to_stream(client, keys, [payload(old_secret)])
    wait_for(lambda: old_secret["id"] in server.alert_ids(users["duty-rs"]), what="the old RS alert")
    sign_in(page, server.url, users["resp-gr"])
    _wait_live(page)
    shared = make_alert(title="Shared with all")
    send_to_stream(client, keys, [payload(secret_rs), payload(shared)])  # in this order
    page.wait_for_selector(f'[data-alert-id="{shared["id"]}"]', timeout=15_000)
    _wait_on_map(page, [shared["id"]])
    content = page.content()
    assert secret_rs["id"] not in content and old_secret["id"] not in content
    assert "RS eyes only" not in content
    ids = _all_map_ids(page)
    assert shared["id"] in ids and secret_rs["id"] not in ids and old_secret["id"] not in ids


def test_map004_after_a_server_restart_the_page_catches_up_from_the_stream(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    page.evaluate("window.__notReloaded = true")
    server.kill()  # SIGKILL: the browser's stream drops; alerts keep arriving in the inbox
    missed = [make_alert(title=f"Missed while down {i}") for i in range(3)]
    send_to_stream(client, keys, [payload(a) for a in missed])
    server.restart()
    page.wait_for_function(
        "ids => ids.every(id => document.querySelector(`[data-alert-id=\"${id}\"]`))",
        arg=[a["id"] for a in missed], timeout=30_000)
    _wait_on_map(page, [a["id"] for a in missed])
    live = _live_ids(page)
    assert all(live.count(a["id"]) == 1 for a in missed)  # replayed once, not twice
    assert page.evaluate("window.__notReloaded") is True


def test_map005_filters_rebuild_the_map(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    low = make_alert(title="A low one", severity="low")
    send_to_stream(client, keys, [payload(low)])
    wait_for(lambda: low["id"] in server.alert_ids(users["duty-rs"]), what="the low alert")
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    page.wait_for_function("id => document.querySelector(`[data-alert-id=\"${id}\"]`)", arg=low["id"])
    assert low["id"] in _all_map_ids(page)
    page.locator("#filter-severity input[value=low]").uncheck()
    page.wait_for_function("id => !document.querySelector(`[data-alert-id=\"${id}\"]`)", arg=low["id"])
    assert low["id"] not in _all_map_ids(page)


def test_map006_ten_thousand_incidents_stay_usable(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    alerts = [make_alert(id=f"bulk-{i}", reported_at="2018-01-01T00:00:00Z",
                         location={"lat": 40.5 + (i % 100) * 0.06, "lon": 19.5 + (i // 100) * 0.07},
                         severity=("critical", "high", "medium", "low")[i % 4]) for i in range(10_000)]
    for start in range(0, len(alerts), 2000):
        send_to_stream(client, keys, [payload(a) for a in alerts[start:start + 2000]])
    user = users["duty-rs"]
    wait_for(lambda: server.api("/summary", user, since="2018-01-01T00:00:00Z",
                                until="2018-01-02T00:00:00Z").json()["total_alerts"] == 10_000,
             timeout=120, what="10,000 alerts ingested")
    sign_in(page, server.url, user)
    page.wait_for_function(f"() => {{ const g = document.querySelector('{GRAPH}');"
                           f" return !!g && !!g._fullData && g._fullData.length > 1 && g._fullData[{INCIDENT_CORE}].lat.length >= 10000; }}",
                           timeout=60_000)
    assert int(page.inner_text("#shown-count")) >= 10_000
    page.locator("#filter-severity input[value=critical]").uncheck()
    page.wait_for_function(f"() => document.querySelector('{GRAPH}')._fullData[{INCIDENT_CORE}].lat.length < 9000",
                           timeout=60_000)
    assert page.locator("#alert-list li").count() == 50


def test_map007_unticking_every_severity_keeps_the_live_stream_open(server, users, page):
    """Nothing ticked is a filter that matches nothing, not an error: the stream opens (it was 422, retried forever)."""
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((r.url, r.status)) if "/live/" in r.url else None)
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    for severity in ("critical", "high", "medium"):
        page.locator(f"#filter-severity input[value={severity}]").uncheck()
    with page.expect_response(lambda r: "/live/map" in r.url and "severity=&" in r.url, timeout=20_000) as opened:
        page.locator("#filter-severity input[value=low]").uncheck()
    assert opened.value.status == 200
    page.wait_for_function("() => document.getElementById('live-status').textContent === 'live'", timeout=10_000)
    assert [a for a in answers if a[1] >= 400] == []
    assert page.inner_text("#shown-count") == "0"


def _core_style(page, alert_id: str) -> dict | None:
    """Colour and hover text of an incident's core dot, in whichever trace it is (built or live)."""
    return page.evaluate(
        f"""id => {{ const g = document.querySelector('{GRAPH}'); const c = JSON.parse(
              document.getElementById('crisis-contract').dataset.contract).traces;
           for (const t of [c.incidents_core, c.live_core]) {{
             const ids = Array.from(g.data[t].customdata || []); const i = ids.indexOf(id);
             if (i >= 0) return {{colour: g.data[t].marker.color[i], text: g.data[t].hovertext[i], trace: t}}; }}
           return null; }}""", alert_id)


def test_map008_acknowledged_and_cancelled_alerts_change_on_the_page_at_once(server, users, page, redis_url):
    """``update`` events restyle the point where it is and re-render the list item, without the 60 s watchdog."""
    from layers.incidents import CLOSED_COLOUR

    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    officer = users["duty-rs"]
    built = make_alert(title="Present when the page was built", source="RS", releasable_to=["RS"])
    send_to_stream(client, keys, [payload(built)])
    wait_for(lambda: built["id"] in server.alert_ids(officer), what="the first alert")
    sign_in(page, server.url, officer)
    _wait_live(page)
    _wait_item(page, f'[data-alert-id="{built["id"]}"][data-status="new"]', 30)
    live = make_alert(title="Arrived live", source="RS", releasable_to=["RS"], severity="critical")
    send_to_stream(client, keys, [payload(live)])
    _wait_on_map(page, [live["id"]])

    for alert in (built, live):
        assert httpx.post(f"{server.url}/api/v1/alerts/{alert['id']}/ack", headers=officer.headers,
                          timeout=10).status_code == 200
        _wait_item(page, f'[data-alert-id="{alert["id"]}"][data-status="acknowledged"]', 30)
    cancels = [make_alert(source="RS", releasable_to=["RS"], msg_type="cancel", references=[a["id"]])
               for a in (built, live)]
    send_to_stream(client, keys, [payload(c) for c in cancels])
    for alert in (built, live):
        _wait_item(page, f'[data-alert-id="{alert["id"]}"][data-status="cancelled"]', 30)
        wait_for(lambda a=alert: (_core_style(page, a["id"]) or {}).get("colour") == CLOSED_COLOUR, timeout=10,
                 what="the point restyled as closed")
        assert "cancelled" in _core_style(page, alert["id"])["text"]
    assert _core_style(page, built["id"])["trace"] != _core_style(page, live["id"])["trace"]


def test_map009_the_page_carries_the_contract_the_scripts_read(server, users, page):
    from dashboard.components.ids import page_contract

    sign_in(page, server.url, users["duty-rs"])
    page.wait_for_selector("#crisis-contract", state="attached")
    contract = json.loads(page.get_attribute("#crisis-contract", "data-contract"))
    assert contract == json.loads(json.dumps(page_contract()))


def test_map010_the_map_recovers_from_a_failed_outline_fetch_and_shows_escalations_live(server, users, browser,
                                                                                         redis_url):
    """A GeoJSON fetch failing once (as while the server restarts) left "Map error." and a map that never
    loaded: the page draws it again. An escalation (the real monitor, its clock moved) shows at once on the
    list item and the point's label (it reached the page only at the 60 s rebuild, without its level)."""
    from datetime import timedelta

    from alerts.actions.escalation import EscalationMonitor
    from alerts.core.checklists import Templates
    from alerts.core.escalation import EscalationPolicy
    from alerts.store.alerts import AlertStore
    from alerts.store.workflow import WorkflowStore
    from tests.conftest import ROOT

    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    failed: list[str] = []

    def fail_once(route):
        if not failed:
            failed.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*.geojson", fail_once)
    page = context.new_page()
    try:
        sign_in(page, server.url, users["duty-rs"])
        _wait_live(page, ready_ms=90_000)  # the failed fetch's retry builds again: slow on a loaded machine
        page.wait_for_function(OUTLINES_LOADED, timeout=30_000)  # every outline, the failed one fetched again
        assert failed and int(page.evaluate("() => document.body.dataset.mapRetries || 0")) >= 1
        alert = make_alert(title="Escalates live", source="RS", releasable_to=["RS"], severity="critical")
        send_to_stream(client, keys, [payload(alert)])
        _wait_item(page, f'[data-alert-id="{alert["id"]}"][data-escalation="0"]', 30)
        # the graph draws again after the recovery: live, or built by the 60 s watchdog's rebuild if that came
        # first (CI: a loaded machine took a minute to get here, and the test looked in the live trace only)
        page.wait_for_function(f"id => {{ const g = document.querySelector('{GRAPH}'); return !!g && !!g.data"
                               " && g.data.some(t => Array.from(t.customdata || []).includes(id)); }",
                               arg=alert["id"], timeout=15_000)
        store = AlertStore(client, keys)
        workflow = WorkflowStore(client, keys, store, Templates.load(ROOT / "checklists"))
        wait_for(lambda: workflow.state(alert["id"]), what="the alert's checklist")
        late = store.get(alert["id"]).received_at + timedelta(minutes=3)
        escalated = {e.alert_id: e.level for e in EscalationMonitor(workflow, EscalationPolicy(),
                                                                      clock=lambda: late).check()}
        assert escalated[alert["id"]] == 1  # (the module's other critical alerts escalate too)
        _wait_item(page, f'[data-alert-id="{alert["id"]}"][data-escalation="1"]', 30)
        assert "ESCALATED L1" in page.inner_text(f'[data-alert-id="{alert["id"]}"]')
        wait_for(lambda: "ESCALATED L1" in ((_core_style(page, alert["id"]) or {}).get("text") or ""), timeout=10,
                 what="the point's label")
    finally:
        context.close()


#: Stamps, the first time the alert ``id`` is an item of the list, whether the map had been asked to redraw
#: (``data-map-updates``) and whether its live trace held the point then.
LISTED_WHEN = f"""
(id) => {{
  const before = document.body.dataset.mapUpdates || "0";
  window.__listedWhen = null;
  const list = document.getElementById("alert-list");
  new MutationObserver((records, observer) => {{
    if (!list.querySelector(`[data-alert-id="${{id}}"]`)) {{ return; }}
    const g = document.querySelector('{GRAPH}');
    window.__listedWhen = {{before: before, updates: document.body.dataset.mapUpdates || "0",
                           onMap: Array.from(g.data[{LIVE_CORE}].customdata || []).includes(id)}};
    observer.disconnect();
  }}).observe(list, {{childList: true, subtree: true}});
}}
"""


def test_map011_the_list_item_is_drawn_before_the_map_redraws(server, users, page, redis_url):
    """A map redraw takes the page's main thread for a long time where WebGL is drawn in software (hundreds of
    ms: bench/README.md section 2), and list items arriving meanwhile waited behind it: an alert's list item is
    drawn first, and the map is redrawn with its point only after (and still within seconds)."""
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    alert = make_alert(title="Listed before drawn", severity="critical", type="terrorism")
    page.evaluate(LISTED_WHEN, alert["id"])
    _publish_channel(client, keys, alert)
    page.wait_for_function("() => window.__listedWhen !== null", timeout=15_000)
    listed = page.evaluate("window.__listedWhen")
    assert listed["onMap"] is False and listed["updates"] == listed["before"], listed
    _wait_on_map(page, [alert["id"]])
    assert int(page.evaluate("document.body.dataset.mapUpdates")) > int(listed["before"])


#: Records the ids of the MapLibre layers removed from the map from now on (``window.__removedLayers``).
RECORD_REMOVED = (
    f"() => {{ const m = document.querySelector('{GRAPH}')._fullLayout.map._subplot.map;"
    " window.__removedLayers = []; const remove = m.removeLayer.bind(m);"
    " m.removeLayer = id => { window.__removedLayers.push(id); return remove(id); }; }"
)
LAYER_IDS = f"() => document.querySelector('{GRAPH}')._fullLayout.map._subplot.map.getStyle().layers.map(l => l.id)"


def test_map012_a_live_patch_makes_no_outline_layer_again_and_keeps_the_drawing_order(server, users, page,
                                                                                       redis_url):
    """plotly.js removed and added again every layer that shares a ``below`` with another on each redraw, and
    the outlines and place names all shared one: each live patch made MapLibre parse their sources again and
    paint several more frames (each 100-300 ms where WebGL is drawn in software). With each layer given a
    place of its own (``assets/map_layers.js``), a live patch leaves them as they are, and the drawing order
    is unchanged: outlines and names below every trace, traces in ``MAP_TRACES`` order."""
    from layers.traces import MAP_TRACES

    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    first = make_alert(title="First live patch", severity="high")
    _publish_channel(client, keys, first)
    _wait_on_map(page, [first["id"]])  # the first redraw of a drawn map gives the layers their places
    page.evaluate(RECORD_REMOVED)
    later = [make_alert(title=f"Later live patch {n}", severity="high") for n in range(2)]
    for alert in later:
        _publish_channel(client, keys, alert)
    _wait_on_map(page, [a["id"] for a in later])
    removed = page.evaluate("window.__removedLayers")
    assert not [i for i in removed if i.startswith("plotly-layout-layer-")], removed
    ids = page.evaluate(LAYER_IDS)
    outlines = [n for n, i in enumerate(ids) if i.startswith("plotly-layout-layer-")]
    traces = [i for i in ids if i.startswith("plotly-trace-layer-")]
    assert outlines and max(outlines) < ids.index(traces[0])
    assert [int(ids[n].rsplit("-", 1)[1]) for n in outlines] == sorted(range(len(outlines)))
    order = list(dict.fromkeys(i.removeprefix("plotly-trace-layer-").rsplit("-", 1)[0] for i in traces))
    assert order == [name.replace(" ", "-") for name in MAP_TRACES]


#: Whether the map's layers are in order: outlines and names below every trace, traces as ``MAP_TRACES``.
ORDER_OK = (
    f"names => {{ const g = document.querySelector('{GRAPH}'); const m = g._fullLayout.map._subplot.map;"
    " const ids = m.getLayersOrder(); const outlines = ids.flatMap((id, n) => id.startsWith('plotly-layout-layer-')"
    " ? [n] : []); const traces = ids.filter(id => id.startsWith('plotly-trace-layer-'));"
    " const groups = [...new Set(traces.map(id => id.slice(19).replace(/-[a-z]+$/, '')))];"
    " return outlines.length > 0 && Math.max(...outlines) < ids.indexOf(traces[0])"
    " && JSON.stringify(groups) === JSON.stringify(names.filter(n => groups.includes(n))); }"
)


def test_map013_switching_assets_off_and_on_or_moving_the_view_keeps_incidents_above_assets(server, users, page,
                                                                                           redis_url):
    """Field report (a tester, this session): plotly.js adds the layers of a trace that gets points again on
    top of the others, so after the assets layer was switched off and on, or a relayout, an asset's ring was
    drawn over its status dot, or over the incidents, which ``layers.traces`` promises never happens. The page
    puts any layer out of place back after each draw (``assets/map_layers.js``)."""
    from alerts.store.assets import AssetStore
    from layers.traces import MAP_TRACES
    from tests.conftest import make_asset

    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    names = [name.replace(" ", "-") for name in MAP_TRACES]
    AssetStore(client, keys).put(make_asset("order-a1", 44.0, 20.02))
    sign_in(page, server.url, users["duty-rs"])
    _wait_live(page)
    alert = make_alert(title="Under no asset", severity="critical", location={"lat": 44.0, "lon": 20.0})
    _publish_channel(client, keys, alert)
    _wait_on_map(page, [alert["id"]])
    page.wait_for_function(ORDER_OK, arg=names, timeout=10_000)
    assets_dot = "() => !!document.querySelector('%s')._fullLayout.map._subplot.map.getLayer(" \
                 "'plotly-trace-layer-assets-dot-circle')" % GRAPH
    toggle = page.locator("#layer-toggles input").nth(0)
    toggle.click()
    page.wait_for_function(f"() => !({assets_dot[6:]})", timeout=10_000)
    toggle.click()
    page.wait_for_function(assets_dot, timeout=10_000)
    page.wait_for_function(ORDER_OK, arg=names, timeout=10_000)
    page.evaluate(f"() => window.Plotly.relayout(document.querySelector('{GRAPH}'),"
                  " {'map.center': {lon: 20.0, lat: 44.0}, 'map.zoom': 9})")
    page.wait_for_function(f"() => document.querySelector('{GRAPH}')._fullLayout.map.zoom === 9", timeout=10_000)
    page.wait_for_function(ORDER_OK, arg=names, timeout=10_000)
