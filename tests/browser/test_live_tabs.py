"""Several map tabs in one browser, and a live feed that goes silent (real Chromium, a real server).

Each map tab held two server-sent-event streams (``/live/alerts`` and ``/live/assets``); Chromium keeps at
most six HTTP/1.1 connections per host, so three tabs used them all and Dash's callbacks hung. A tab now holds
one (``/live/map``). The server pings a quiet stream (``CRISIS_LIVE_PING``); a page that hears nothing for
three intervals (here the server is frozen with SIGSTOP: its connections stay open, silent) says its feed is
stale and reconnects, and is live again once the server answers.
"""
from __future__ import annotations

import signal

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.browser.test_map_live import _wait_live
from tests.conftest import add_user, make_alert, payload, serving, sign_in

pytestmark = pytest.mark.browser


def test_tab001_three_map_tabs_stay_live_answer_callbacks_and_see_a_silent_feed_as_stale(redis_url, browser):
    servers = serving(redis_url, CRISIS_LIVE_PING="0.5")
    server = next(servers)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        user = add_user(redis_url, server.prefix, "tabs-duty", "duty_officer", "RS")
        tabs = [context.new_page() for _ in range(3)]
        sign_in(tabs[0], server.url, user)
        for tab in tabs[1:]:
            tab.goto(f"{server.url}/")
        for tab in tabs:
            _wait_live(tab)
        low = make_alert(title="Seen in every tab", severity="low", source="RS", releasable_to=["RS"])
        send_to_stream(redis.Redis.from_url(redis_url), Keys(server.prefix), [payload(low)])
        selector = f'[data-alert-id="{low["id"]}"]'
        for tab in tabs:
            tab.wait_for_selector(selector, timeout=15_000)  # live in each
        for tab in tabs:  # a Dash callback answers in each: the map is rebuilt without the low alert
            tab.locator("#filter-severity input[value=low]").uncheck()
            tab.wait_for_selector(selector, state="detached", timeout=15_000)
            tab.wait_for_function("() => document.body.dataset.live === 'open'", timeout=15_000)

        server.process.send_signal(signal.SIGSTOP)  # connections stay open; nothing more comes
        try:
            for tab in tabs:
                tab.wait_for_function("() => document.body.dataset.live === 'stale'", timeout=15_000)
            assert "stale" in tabs[0].inner_text("#live-status")
        finally:
            server.process.send_signal(signal.SIGCONT)
        for tab in tabs:
            tab.wait_for_function("() => document.body.dataset.live === 'open'", timeout=30_000)
    finally:
        context.close()
        servers.close()


@pytest.mark.parametrize("path", ["/queue", "/audit"])
def test_tab002_a_page_other_than_the_map_sees_a_silent_stream_as_stale_and_reopens_it(redis_url, browser, path):
    servers = serving(redis_url, CRISIS_LIVE_PING="0.5")
    server = next(servers)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        user = add_user(redis_url, server.prefix, "stale-admin", "admin" if path == "/audit" else "duty_officer", "RS")
        page = context.new_page()
        sign_in(page, server.url, user, path)
        page.wait_for_function("() => document.body.dataset.pageLive === 'open'", timeout=20_000)
        server.process.send_signal(signal.SIGSTOP)  # connections stay open; nothing more comes
        try:
            page.wait_for_function("() => document.body.dataset.pageLive === 'stale'", timeout=15_000)
            page.wait_for_function("() => document.body.dataset.degraded === 'on'", timeout=5_000)  # said
        finally:
            server.process.send_signal(signal.SIGCONT)
        page.wait_for_function("() => document.body.dataset.pageLive === 'open'", timeout=30_000)
        page.wait_for_function("() => document.body.dataset.degraded === 'off'", timeout=10_000)
        assert int(page.evaluate("document.body.dataset.pageStale")) >= 1
    finally:
        context.close()
        servers.close()
