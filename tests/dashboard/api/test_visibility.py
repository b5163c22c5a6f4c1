"""What an alert's JSON reveals about other alerts, in process (``create_app`` on a real Redis)."""
from __future__ import annotations

from tests.conftest import add_user, make_alert, wait_for


def test_vis001_the_id_of_a_superseding_alert_is_shown_only_to_who_may_see_it(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    rs = add_user(url, prefix, "vis-rs", "duty_officer", "RS")
    mk = add_user(url, prefix, "vis-mk", "duty_officer", "MK")
    original = make_alert(source="RS", releasable_to=["ALL"])
    update = make_alert(source="RS", releasable_to=["RS"], msg_type="update", references=[original["id"]])
    app_server.ingest(original)
    app_server.ingest(update)
    wait_for(lambda: app_server.api(f"/alerts/{original['id']}", rs).json().get("superseded_by") == update["id"],
             what="the update to close the original")
    seen_by_mk = app_server.api(f"/alerts/{original['id']}", mk).json()
    assert seen_by_mk["status"] == "cancelled" and "superseded_by" not in seen_by_mk
    assert update["id"] not in app_server.api("/alerts", mk).text
    assert app_server.api(f"/alerts/{update['id']}", mk).status_code == 404
