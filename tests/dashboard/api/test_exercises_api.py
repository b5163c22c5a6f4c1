"""Exercises over HTTP and the control page's callbacks: who may read the MSEL, observations over the API."""
from __future__ import annotations

import httpx

from tests.conftest import add_user
from tests.dashboard.api.test_leaks import _callback, _web

MSEL = b"""inject,offset,to,type,severity,title,lat,lon,expected_action
1,1:00:00,RS,hazmat,high,Secret future inject,44.8,20.4,acknowledge within 5m
"""


def test_exa101_the_training_audience_never_reads_the_msel_and_observations_post(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    excon = add_user(url, prefix, "exa-excon", "exercise_control", "RS")
    player = add_user(url, prefix, "exa-duty-rs", "duty_officer", "RS")
    loaded = httpx.post(f"{app_server.url}/api/v1/exercises", params={"name": "CLOSED BOOK"}, content=MSEL,
                        headers=excon.headers, timeout=20)
    assert loaded.status_code == 201, loaded.text
    exercise_id = loaded.json()["id"]
    web = _web(app_server, player)  # the control page's callbacks, posted directly by a player
    shown = _callback(web, "exercise-status", {"exercise-select.value": exercise_id, "exercise-tick.n_intervals": 1},
                      "exercise-select.value")
    web.close()
    assert "Secret future inject" not in str(shown) and "acknowledge within" not in str(shown)
    note = httpx.post(f"{app_server.url}/api/v1/exercises/{exercise_id}/observations",
                      json={"inject": 1, "text": "Clear hand-over", "rating": "S"}, headers=excon.headers, timeout=20)
    assert note.status_code == 201, note.text
    table = httpx.get(f"{app_server.url}/api/v1/exercises/{exercise_id}/evaluation", headers=excon.headers,
                      timeout=20).json()
    assert [o["text"] for o in table["observations"]] == ["Clear hand-over"]
    slow = httpx.post(f"{app_server.url}/api/v1/exercises", params={"name": "SLOW", "speed": 1e-9}, content=MSEL,
                      headers=excon.headers, timeout=20)
    assert slow.status_code == 422


def test_exa102_a_msel_over_the_general_body_limit_uploads_over_the_api(app_server):
    """The upload route takes up to 20 MB; every other request stops at CRISIS_MAX_REQUEST_BYTES (256 KB)."""
    excon = add_user(app_server.services.settings.redis_url, app_server.prefix, "exa-excon2", "exercise_control", "RS")
    rows = [f"{n},{n // 60}:{n % 60:02d}:00,RS,other,low,Inject {n} {'x' * 150},44.0,20.0," for n in range(1, 1801)]
    big = "\n".join(["inject,offset,to,type,severity,title,lat,lon,expected_action", *rows]).encode()
    assert len(big) > app_server.services.settings.max_request_bytes
    loaded = httpx.post(f"{app_server.url}/api/v1/exercises", params={"name": "BIG"}, content=big,
                        headers=excon.headers, timeout=60)
    assert loaded.status_code == 201, loaded.text[:300]
    other = httpx.post(f"{app_server.url}/api/v1/alerts/x/ack", content=big, headers=excon.headers, timeout=60)
    assert other.status_code == 413
