"""Every audit entry says from where, whichever front end did the work: the pages' actions recorded ``ip: ""``
while the same actions through the API recorded the caller's address."""
from __future__ import annotations

from tests.conftest import add_user, make_alert, wait_for
from tests.dashboard.api.test_leaks import _callback, _web


def test_adr001_an_action_taken_on_a_page_is_audited_with_the_address(app_server):
    officer = add_user(app_server.services.settings.redis_url, app_server.prefix, "adr-duty-rs", "duty_officer", "RS")
    alert = make_alert(source="RS", releasable_to=["RS"], severity="low")
    app_server.ingest(alert)
    wait_for(lambda: app_server.services.centre.index.get(alert["id"]), what="the alert in the read model")
    web = _web(app_server, officer)
    answer = _callback(web, "change-message", {"change-submit.n_clicks": 1, "change-alert.value": alert["id"],
                                               "change-nations.value": ["RS", "HR"], "change-reason.value": "HR helps"},
                       "change-submit.n_clicks")
    web.close()
    assert "Released to RS, HR" in str(answer)
    entries = app_server.services.centre.audit.read(50)
    changed = next(e for e in entries if e.action == "alert.releasability" and e.object == alert["id"])
    assert changed.actor == "adr-duty-rs" and changed.ip == "127.0.0.1"
