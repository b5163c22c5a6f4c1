"""The replay page in headless Chromium: seek before and after an acknowledgment; another nation's viewer
never sees what was not released to it."""
from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import make_alert, payload, sign_in, wait_for

pytestmark = pytest.mark.browser


def _redis_now(client) -> str:
    """Redis's clock (the record's), once past every entry written so far, as ISO 8601."""
    seconds, micros = client.time()
    then = seconds * 1000 + micros // 1000
    wait_for(lambda: (lambda t: t[0] * 1000 + t[1] // 1000 > then + 1)(client.time()), 5, "Redis's clock")
    return datetime.fromtimestamp((then + 1) / 1000, UTC).isoformat()


def _seek(page, moment: str) -> None:
    page.fill("#replay-at", moment)
    page.press("#replay-at", "Enter")
    page.wait_for_function(f"() => document.querySelector('#replay-time').innerText.includes('{moment[:23]}')",
                           timeout=15_000)


def test_rpp001_seeking_shows_the_status_then_and_hides_what_was_not_released(server, users, page, redis_url):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    shared = make_alert(releasable_to=["RS", "HR"], title="Shared flood report")
    hidden = make_alert(releasable_to=["RS"], title="RS eyes only report")
    send_to_stream(client, keys, [payload(shared), payload(hidden)])
    duty = users["duty-rs"]
    wait_for(lambda: {shared["id"], hidden["id"]} <= server.alert_ids(duty), what="the alerts")
    before = _redis_now(client)
    ack = httpx.post(f"{server.url}/api/v1/alerts/{shared['id']}/ack", headers=duty.headers, timeout=10)
    assert ack.status_code == 200, ack.text
    after = _redis_now(client)

    sign_in(page, server.url, duty, path="/replay")
    shared_item = f"#replay-alerts li[data-alert-id='{shared['id']}']"
    _seek(page, before)
    assert page.get_attribute(shared_item, "data-status") == "new"
    _seek(page, after)
    assert page.get_attribute(shared_item, "data-status") == "acknowledged"
    assert "duty-rs" in page.inner_text(shared_item)
    page.wait_for_selector("#replay-map canvas.maplibregl-canvas", timeout=30_000)

    other = page.context.browser.new_context().new_page()
    sign_in(other, server.url, users["lead-hr"], path="/replay")
    for moment in (before, after):
        _seek(other, moment)
        other.wait_for_selector(f"#replay-alerts li[data-alert-id='{shared['id']}']", timeout=15_000)
        assert "RS eyes only" not in other.inner_text("body")
        assert other.locator(f"[data-alert-id='{hidden['id']}']").count() == 0
    other.context.close()
