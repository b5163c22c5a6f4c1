"""The hourly ``token.use`` entry names the route, not the first call's object, so a call about an alert its
nation's admin may not see cannot hide the hour's token use from that admin (in-process server, real Redis)."""
from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.conftest import add_user, make_alert, wait_for


def test_tku001_token_use_records_the_route_template_and_stays_visible_to_the_nations_admin(app_server, redis_url):
    hidden = make_alert(source="MK", releasable_to=["GR"], title="Not for RS")
    app_server.ingest(hidden)
    wait_for(lambda: app_server.services.centre.index.get(hidden["id"]) is not None, what="the alert held")
    user = add_user(redis_url, app_server.prefix, "duty-tku", "duty_officer", "RS")
    admin = add_user(redis_url, app_server.prefix, "admin-tku", "admin", "RS")
    probe = httpx.get(f"{app_server.url}/api/v1/alerts/{quote(hidden['id'], safe='')}", headers=user.headers,
                      timeout=10)  # the token's first call of the hour, about an alert RS may not see
    assert probe.status_code in (403, 404)
    assert app_server.api("/alerts", user).status_code == 200  # later calls of the hour: not audited again

    uses = [e for e in app_server.services.centre.audit.read(200) if e.action == "token.use" and e.actor == user.name]
    assert len(uses) == 1
    assert uses[0].detail["path"] == "/api/v1/alerts/{alert_id}" and uses[0].detail["method"] == "GET"
    assert hidden["id"] not in str(uses[0].detail)
    seen = app_server.api("/audit", admin, limit=500).json()["items"]
    assert [e for e in seen if e["action"] == "token.use" and e["actor"] == user.name]  # the admin sees the hour
