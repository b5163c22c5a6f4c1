"""The read model's horizon in a running server: a cancelled alert leaves the lists once closed longer than
``CRISIS_MEMORY_HORIZON`` and is still read by id from Redis."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import add_user, make_alert, payload, serving, wait_for


@pytest.fixture
def short_memory(redis_url):
    servers = serving(redis_url, CRISIS_MEMORY_HORIZON="2")
    yield next(servers)
    servers.close()


def test_hzn101_a_cancelled_alert_leaves_the_lists_after_the_horizon_and_stays_readable_by_id(short_memory):
    server = short_memory
    client, keys = redis.Redis.from_url(server.redis_url), Keys(server.prefix)
    user = add_user(server.redis_url, server.prefix, "duty-mk", "duty_officer", "MK")
    kept, gone = make_alert(title="Stays open"), make_alert(title="Cancelled soon")
    send_to_stream(client, keys, [payload(kept), payload(gone)])
    wait_for(lambda: {kept["id"], gone["id"]} <= server.alert_ids(user), what="both alerts listed")
    cancel = make_alert(title="Cancel", msg_type="cancel", references=[gone["id"]])
    send_to_stream(client, keys, [payload(cancel)])
    wait_for(lambda: gone["id"] in server.alert_ids(user, status="closed"), what="the cancelled alert closed")

    def moved_on() -> bool:  # the read model's clock is the events stream's: newer events move it on
        send_to_stream(client, keys, [payload(make_alert(title="Later"))])
        return gone["id"] not in server.alert_ids(user)
    wait_for(moved_on, 30, "the cancelled alert to leave the lists")

    assert kept["id"] in server.alert_ids(user)  # open: held however long
    body = server.api(f"/alerts/{quote(gone['id'], safe='')}", user).json()
    assert body["status"] == "cancelled" and body["title"] == "Cancelled soon"  # from Redis, by id

    # by the producer's id too, and every answer over a period reaching back past the horizon says so
    found = server.api("/alerts", user, identifier=gone["id"]).json()
    assert [item["id"] for item in found["items"]] == [gone["id"]] and found["total"] == 1
    listed = server.api("/alerts", user).json()
    held_since = datetime.fromisoformat(listed["held_since"])
    assert datetime.now(UTC) - timedelta(minutes=5) < held_since < datetime.now(UTC)
    assert server.api("/alerts", user, status="open").json()["held_since"] is None  # open alerts: all held
    summary = server.api("/summary", user).json()
    assert datetime.fromisoformat(summary["held_since"]) >= held_since
    sitrep = server.api("/sitrep", user, format="md").text
    assert "Alerts closed before" in sitrep and "CRISIS_MEMORY_HORIZON" in sitrep
    recent = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    assert "Alerts closed before" not in server.api("/sitrep", user, format="md", since=recent).text
