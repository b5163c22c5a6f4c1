"""The AAR page's callbacks over a signed-in session: an evaluator rates an objective and plans an item; the
report shows them; a player is refused."""
from __future__ import annotations

import httpx

from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _callback, _web

MSEL = b"""inject,offset,to,type,severity,title,lat,lon,expected_action,objective
1,1:00:00,RS,hazmat,high,Leak at the plant,44.8,20.4,acknowledge within 5m,Warn the public in time
"""


def test_aap001_an_evaluator_rates_and_plans_and_the_report_shows_it(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    excon = add_user(url, prefix, "aap-excon", "exercise_control", "RS")
    evaluator = add_user(url, prefix, "aap-eval", "evaluator", "RS")
    player = add_user(url, prefix, "aap-duty", "duty_officer", "RS")
    loaded = httpx.post(f"{app_server.url}/api/v1/exercises", params={"name": "PLANT"}, content=MSEL,
                        headers=excon.headers, timeout=20)
    exercise_id = loaded.json()["id"]
    web = _web(app_server, evaluator)
    state = {"aar-select.value": exercise_id, "aar-objective.value": 1, "aar-rating.value": "M",
             "aar-note.value": "late", "aar-area.value": "Public warning", "aar-action.value": "Drill the sirens",
             "aar-owner.value": "RS civil protection", "aar-due.value": "2027-02-01"}
    rated = _callback(web, "aar-message", {**state, "aar-rate.n_clicks": 1}, "aar-rate.n_clicks")
    assert "rated M" in str(rated)
    planned = _callback(web, "aar-message", {**state, "aar-plan.n_clicks": 1}, "aar-plan.n_clicks")
    assert "Added" in str(planned)
    bad = _callback(web, "aar-message", {**state, "aar-due.value": "soon", "aar-plan.n_clicks": 2},
                    "aar-plan.n_clicks")
    assert "due" in str(bad)
    shown = str(_callback(web, "aar-report", {"aar-select.value": exercise_id, "aar-changed.data": 2},
                          "aar-select.value"))
    web.close()
    assert "Performed with major challenges" in shown and "Drill the sirens" in shown
    assert "PLANT (EXERCISE)" in shown and "\\" not in shown  # shown as text, no Markdown escapes
    html_report = httpx.get(f"{app_server.url}/api/v1/exercises/{exercise_id}/aar", params={"format": "html"},
                            headers=evaluator.headers, timeout=20)
    assert html_report.status_code == 200 and "<td>RS civil protection</td>" in html_report.text
    assert httpx.get(f"{app_server.url}/api/v1/exercises/{exercise_id}/aar", headers=player.headers,
                     timeout=20).status_code == 403
    other = _web(app_server, player)
    refused = str(_callback(other, "aar-message", {**state, "aar-rate.n_clicks": 1}, "aar-rate.n_clicks"))
    other.close()
    assert "rated" not in refused
