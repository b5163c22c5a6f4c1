"""Live everywhere, in a real headless Chromium at desktop (1440x900) and phone (390x844) sizes.

The queue and the situation page update by the live push, never by polling; the queue's checklist opens in a
sheet inside the viewport, closed by Escape with the focus back on the alert; resolving with steps open asks in
a dialog; a new unacknowledged critical alert raises the alarm on every page (strip, title, announcement), says
EXERCISE for exercise play, clears on acknowledgment, and never for an alert not released to the viewer.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.browser.test_map_operator import SIZES, _inside_viewport
from tests.conftest import make_alert, payload, sign_in, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(params=sorted(SIZES))
def sized(request, browser):
    """A browser context at one of the two sizes (its name in ``context.size``)."""
    context = browser.new_context(viewport=SIZES[request.param])
    context.size = request.param
    yield context
    context.close()


def _send(server, *alerts: dict) -> None:
    send_to_stream(redis.Redis.from_url(server.redis_url), Keys(server.prefix), [payload(a) for a in alerts])


def _post(server, user, path: str, **body) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1{path}", headers=user.headers, json=body or None, timeout=10)


def _callbacks(requests: list) -> list[list[str]]:
    """The changed inputs of each Dash callback request the page made."""
    found = []
    for request in requests:
        if "_dash-update-component" in request.url and request.post_data:
            found.append(json.loads(request.post_data).get("changedPropIds", []))
    return found


def _item(alert_id: str) -> str:
    return f'#queue li[data-alert-id="{alert_id}"]'


#: The tab's icon is a badge drawn on a canvas (a data: URL), and the plain icon again when quiet.
FAVICON_BADGE = ("() => document.body.dataset.favicon === 'badge' && "
                 "document.querySelector(\"link[rel~='icon']\").href.startsWith('data:image/png')")
FAVICON_PLAIN = ("() => document.body.dataset.favicon === 'plain' && "
                 "!document.querySelector(\"link[rel~='icon']\").href.startsWith('data:')")


def test_lvp001_the_queue_and_situation_follow_by_push_and_a_critical_alert_rings_the_alarm(server, users, sized):
    """An acknowledgment and a step done through the API by another user show on an open queue, each through one
    callback its live event asked for (no timer asks the server anything). Then, with the situation page open in
    a second tab, a critical exercise alert published to the stream rings both (strip, title, aria-live), saying
    EXERCISE; one not released to the viewer rings nothing; an acknowledgment through the API clears both."""
    officer = users["duty-rs"]
    other = _other_officer(server, sized.size)
    alert = make_alert(source="RS", releasable_to=["RS"], severity="high", title=f"Pushed to the queue {sized.size}")
    _send(server, alert)
    wait_for(lambda: alert["id"] in server.alert_ids(officer), what="the alert recorded")
    queue = sized.new_page()
    sign_in(queue, server.url, officer, path="/queue")
    queue.wait_for_selector(_item(alert["id"]), timeout=15_000)
    queue.wait_for_function("() => document.body.dataset.pageLive === 'open'", timeout=15_000)
    requests: list = []
    queue.on("request", lambda r: requests.append(r))

    assert _post(server, other, f"/alerts/{quote(alert['id'], safe='')}/ack").status_code == 200
    queue.wait_for_function(
        "([sel, who]) => { const li = document.querySelector(sel); return li && li.innerText.includes('by ' + who); }",
        arg=[_item(alert["id"]), other.name], timeout=10_000)
    assert _post(server, other, f"/alerts/{quote(alert['id'], safe='')}/checklist/1/done").status_code == 200
    queue.wait_for_function("sel => /in progress/.test(document.querySelector(sel).innerText)",
                            arg=_item(alert["id"]), timeout=10_000)
    triggers = _callbacks(requests)
    assert triggers.count(["queue-live.data"]) >= 2, triggers  # the queue read again, each time asked by a push
    # nothing on a timer: the only one left is every page's EXERCISE band (see dashboard.components.exercise_band)
    assert [t for t in triggers if any(i.endswith("n_intervals") for i in t)] == []
    assert queue.locator("#queue-tick").count() == 0

    pages = {"/queue": queue}
    # the situation page, and another: the map (its own stream) on phone, the sharing page on desktop
    for path in ("/situation", "/" if sized.size == "phone" else "/sharing"):
        pages[path] = sized.new_page()
        pages[path].goto(f"{server.url}{path}")
    for page in pages.values():
        page.wait_for_function("() => document.body.dataset.alarm !== undefined", timeout=20_000)
    situation = pages["/situation"]
    situation.wait_for_selector("#tile-critical", timeout=15_000)
    critical = int(situation.inner_text("#tile-critical"))
    situation_requests: list = []
    situation.on("request", lambda r: situation_requests.append(r))
    hidden = make_alert(source="HR", releasable_to=["HR"], severity="critical", title=f"Not for RS {sized.size}")
    drill = make_alert(source="RS", releasable_to=["RS"], severity="critical", exercise=True,
                       title=f"Drill alarm {sized.size}")
    before = {path: int(page.evaluate("document.body.dataset.alarm")) for path, page in pages.items()}
    _send(server, hidden)  # recorded first: an alarm that counted it would count it with the drill too
    wait_for(lambda: hidden["id"] in server.alert_ids(users["lead-hr"]), what="the HR alert recorded")
    _send(server, drill)
    for path, page in pages.items():
        page.wait_for_function("n => Number(document.body.dataset.alarm) === n", arg=before[path] + 1, timeout=10_000)
        strip = page.locator("#critical-banner")
        assert f"Drill alarm {sized.size}" in strip.inner_text() and "EXERCISE" in strip.inner_text()
        assert "Not for RS" not in strip.inner_text()
        marked = strip.locator(".alarm-title", has_text=f"Drill alarm {sized.size}").get_attribute("data-marking")
        assert json.loads(marked)["releasable_to"] == ["RS"]  # the banners rise to what the strip shows
        assert page.title().startswith(f"({before[path] + 1}) ")
        page.wait_for_function(FAVICON_BADGE, timeout=5_000)  # the tab's icon carries the count too
        page.wait_for_function("t => document.querySelector('#alarm-announce').textContent.includes(t)",
                               arg=f"Drill alarm {sized.size}", timeout=5_000)
        announce = page.locator("#alarm-announce")
        assert announce.get_attribute("aria-live") == "assertive" and "EXERCISE" in announce.text_content()
        assert "ringing" in strip.get_attribute("class")
        if before[path] == 0:
            assert "exercise" in strip.get_attribute("class")
        assert page.locator("#mute-sound").inner_text().startswith("Sound: click")  # no interaction yet
    queue.locator(".queue-head h2").click()  # the first interaction: the tone owed sounds, the button says so
    queue.wait_for_function("() => document.body.dataset.soundAllowed === '1' && Number(document.body.dataset.beeps) >= 1",
                            timeout=5_000)
    assert queue.locator("#mute-sound").inner_text() == "Sound on"
    # the button keeps its words whole beside a long headline, at phone size too (it had been squeezed to
    # "Sou/nd/on", a line each)
    lines, words = queue.evaluate(
        "() => { document.querySelector('.alarm-strip .alarm-text').textContent += ' a long headline'.repeat(40);"
        " const b = document.querySelector('#mute-sound'); const r = document.createRange();"
        " r.selectNodeContents(b); return [new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size,"
        " b.innerText.trim().split(/\\s+/).length]; }")
    assert lines <= words
    situation.wait_for_function("n => Number(document.querySelector('#tile-critical').innerText) === n",
                                arg=critical + 1, timeout=10_000)  # its figures read again, asked by the push
    assert ["sit-live.data"] in _callbacks(situation_requests)
    assert [t for t in _callbacks(situation_requests)
            if any(i.endswith("n_intervals") for i in t)] == []
    assert _post(server, officer, f"/alerts/{quote(drill['id'], safe='')}/ack").status_code == 200
    for path, page in pages.items():
        page.wait_for_function("n => Number(document.body.dataset.alarm) === n", arg=before[path], timeout=10_000)
        assert f"Drill alarm {sized.size}" not in page.locator("#critical-banner").inner_text()
        assert page.title().startswith("(") == (before[path] > 0)
        if before[path] == 0:
            page.wait_for_function(FAVICON_PLAIN, timeout=5_000)


def _other_officer(server, size: str):
    from tests.conftest import add_user

    return add_user(server.redis_url, server.prefix, f"duty-rs-2-{size}", "duty_officer", "RS")


def test_lvp002_the_checklist_opens_in_view_closes_with_escape_and_resolving_open_work_asks(server, users, sized):
    officer = users["duty-rs"]
    many = [make_alert(source="RS", releasable_to=["RS"], severity="medium", title=f"Queue filler {sized.size} {i}")
            for i in range(24)]
    _send(server, *many)
    wait_for(lambda: {a["id"] for a in many} <= server.alert_ids(officer), what="the queue filled")
    page = sized.new_page()
    sign_in(page, server.url, officer, path="/queue")
    page.wait_for_selector(_item(many[0]["id"]), timeout=30_000)
    last = page.locator("#queue li[data-alert-id]").last
    alert_id = last.get_attribute("data-alert-id")
    button = page.locator(f"{_item(alert_id)} .open-button")
    assert button.bounding_box()["y"] > SIZES[sized.size]["height"]  # far down a long queue
    button.scroll_into_view_if_needed()
    button.click()
    page.wait_for_selector(f'#checklist-panel.open .case[data-alert-id="{alert_id}"]', timeout=10_000)
    wait_for(lambda: _inside_viewport(page, "#checklist-panel"), timeout=10, what="the sheet in view")
    assert _inside_viewport(page, "#checklist-title")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'checklist-title'",
                           timeout=5_000)

    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.querySelector('#checklist-panel').classList.contains('open')",
                           timeout=10_000)
    page.wait_for_function(
        "id => { const a = document.activeElement; return a && a.classList.contains('open-button') &&"
        " a.getAttribute('aria-expanded') === 'false' &&"
        " a.closest('[data-alert-id]').getAttribute('data-alert-id') === id; }", arg=alert_id, timeout=10_000)

    page.keyboard.press("Enter")  # the focused Checklist button opens it again
    page.wait_for_selector(f'#checklist-panel.open .case[data-alert-id="{alert_id}"] .resolve-ask',
                           timeout=10_000)
    page.click("#checklist-panel .resolve-ask")
    dialog = page.locator("#resolve-dialog")
    dialog.wait_for(state="visible", timeout=5_000)
    assert page.evaluate("document.querySelector('#resolve-dialog').open") is True
    assert page.get_attribute("#resolve-dialog", "aria-labelledby") == "resolve-dialog-title"
    assert "still open" in dialog.inner_text()
    page.click("#resolve-dialog .dialog-cancel")
    dialog.wait_for(state="hidden", timeout=5_000)
    assert server.api(f"/alerts/{quote(alert_id, safe='')}/checklist", officer).json()["status"] == "new"
    assert page.evaluate("document.activeElement.classList.contains('resolve-ask')")

    page.click("#checklist-panel .resolve-ask")
    dialog.wait_for(state="visible", timeout=5_000)
    page.click("#resolve-dialog .resolve-confirm")
    page.wait_for_selector(f'#checklist-panel .case[data-alert-id="{alert_id}"][data-resolved="1"]', timeout=10_000)
    assert "Resolved by " + officer.name in page.inner_text("#checklist-panel .case-status")
    assert page.locator("#checklist-panel .countdown").count() == 0
    page.wait_for_selector(_item(alert_id), state="detached", timeout=10_000)  # out of the queue (its next draw)


#: Counts the page's EventSources: every one made, and those still open (not closed by the page).
COUNT_STREAMS = """() => {
  const Original = window.EventSource;
  window.crisisStreams = [];
  window.EventSource = function (url, options) {
    const es = new Original(url, options);
    const entry = {url: String(url), open: true};
    window.crisisStreams.push(entry);
    const close = es.close.bind(es);
    es.close = function () { entry.open = false; close(); };
    return es;
  };
  window.EventSource.prototype = Original.prototype;
  window.EventSource.CLOSED = Original.CLOSED;
}"""
OPEN_STREAMS = "() => window.crisisStreams.filter(s => s.open).map(s => s.url.split('?')[0])"


def test_lvp003_a_tab_holds_one_live_stream_the_map_closes_its_own_when_left(server, users, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(f"({COUNT_STREAMS})()")
    try:
        page = context.new_page()
        sign_in(page, server.url, users["duty-rs"])
        page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
        assert page.evaluate(OPEN_STREAMS) == ["/live/map"]
        page.locator("nav a[href='/queue']").click()  # Dash changes the page without a reload
        page.wait_for_function("() => document.body.dataset.pageLive === 'open'", timeout=20_000)
        page.wait_for_function(f"() => JSON.stringify(({OPEN_STREAMS})()) === '[\"/live/alerts\"]'", timeout=10_000)
        assert page.evaluate("document.body.dataset.live") == "closed"
        page.locator("nav a[href='/']").click()  # back: the map's next build connects again
        page.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
        page.wait_for_function(f"() => JSON.stringify(({OPEN_STREAMS})()) === '[\"/live/map\"]'", timeout=10_000)
    finally:
        context.close()
