"""A user over the per-user stream limit (CRISIS_MAX_STREAMS_PER_USER): the older tab is told its live updates
moved to the newer one, stays closed and does not push the newer one out in turn (it used to say
"reconnecting…" forever, and the watchdog made tabs take turns going dead)."""
from __future__ import annotations

import uuid

import pytest
import redis

from tests.browser.test_map_live import _wait_live
from tests.conftest import _delete_prefix, add_user, sign_in, start_server, stop_server

pytestmark = pytest.mark.browser


def test_sup001_the_older_tab_says_its_updates_moved_and_stays_closed(redis_url, browser, monkeypatch):
    monkeypatch.setenv("CRISIS_MAX_STREAMS_PER_USER", "1")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    server = start_server(redis_url, prefix)
    context = browser.new_context()
    try:
        user = add_user(redis_url, prefix, "sup-duty", "duty_officer", "RS")
        older = context.new_page()
        sign_in(older, server.url, user)
        _wait_live(older)
        newer = context.new_page()
        newer.goto(f"{server.url}/")
        _wait_live(newer)
        older.wait_for_function("() => document.body.dataset.live === 'superseded'", timeout=15_000)
        assert "newer tab" in older.inner_text("#live-status")
        assert older.evaluate("() => document.body.dataset.assetsLive") == "superseded"
        assert newer.evaluate("() => document.body.dataset.live") == "open"
    finally:
        context.close()
        stop_server(server)
        _delete_prefix(redis.Redis.from_url(redis_url), prefix)
