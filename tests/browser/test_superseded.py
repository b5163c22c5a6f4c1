"""A user over the per-user stream limit (CRISIS_MAX_STREAMS_PER_USER): the older tab is told its live updates
moved to the newer one, stays closed and does not push the newer one out in turn (it used to say
"reconnecting…" forever, and the watchdog made tabs take turns going dead)."""
from __future__ import annotations

import pytest

from tests.browser.test_map_live import _wait_live
from tests.conftest import add_user, serving, sign_in

pytestmark = pytest.mark.browser


def test_sup001_the_older_tab_says_its_updates_moved_and_stays_closed(redis_url, browser):
    servers = serving(redis_url, CRISIS_MAX_STREAMS_PER_USER="1")
    server = next(servers)
    context = browser.new_context()
    try:
        user = add_user(redis_url, server.prefix, "sup-duty", "duty_officer", "RS")
        older = context.new_page()
        sign_in(older, server.url, user)
        _wait_live(older)
        newer = context.new_page()
        newer.goto(f"{server.url}/")
        _wait_live(newer)
        older.wait_for_function("() => document.body.dataset.live === 'superseded'", timeout=15_000)
        assert "newer tab" in older.inner_text("#live-status")
        assert newer.evaluate("() => document.body.dataset.live") == "open"
    finally:
        context.close()
        servers.close()
