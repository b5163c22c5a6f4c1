"""The replay page's callbacks over a signed-in session: choosing an exercise jumps to its STARTEX; a viewer
whose nation does not play cannot jump to it; a bad moment is refused with the reason; a seek shows at most
``PAGE_ALERTS`` alerts, saying so."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import add_user, make_alert, make_asset
from tests.dashboard.api.test_leaks import _callback, _web

MSEL = b"""inject,offset,to,type,severity,title,lat,lon,expected_action
1,1:00:00,RS,hazmat,high,Leak at the plant,44.8,20.4,acknowledge within 5m
"""


def test_rpc001_an_exercise_jumps_to_its_startex_for_those_who_may_know_of_it(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    excon = add_user(url, prefix, "rpc-excon", "exercise_control", "RS")
    player, stranger = (add_user(url, prefix, "rpc-duty-rs", "duty_officer", "RS"),
                        add_user(url, prefix, "rpc-duty-hr", "duty_officer", "HR"))
    loaded = httpx.post(f"{app_server.url}/api/v1/exercises", params={"name": "PLANT"}, content=MSEL,
                        headers=excon.headers, timeout=20).json()
    started = httpx.post(f"{app_server.url}/api/v1/exercises/{loaded['id']}/start", headers=excon.headers,
                         timeout=20).json()
    startex_ms = int(datetime.fromisoformat(started["startex"]).timestamp() * 1000)
    values = {"replay-exercise.value": loaded["id"], "replay-slider.value": 1, "replay-slider.max": 2,
              "replay-speed.value": 15}
    web = _web(app_server, player)
    moved = _callback(web, "replay-message", values, "replay-exercise.value")
    bad = _callback(web, "replay-message", {**values, "replay-at.value": "half past ten"}, "replay-at.value")
    web.close()
    assert moved["replay-slider"]["value"] == startex_ms
    assert bad["replay-slider"]["value"] == 1 and "moment" in bad["replay-message"]["children"]
    web = _web(app_server, stranger)
    refused = _callback(web, "replay-message", values, "replay-exercise.value")
    web.close()
    assert refused["replay-slider"]["value"] == 1 and "no exercise" in refused["replay-message"]["children"]


def test_rpc002_the_list_is_marked_tags_exercises_and_names_only_who_acknowledged(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    acker = add_user(url, prefix, "rpc-ack-ba", "duty_officer", "BA", "SECRET")
    resolver = add_user(url, prefix, "rpc-res-ba", "duty_officer", "BA", "SECRET")
    secret = make_alert(source="BA", releasable_to=["BA"], classification="SECRET", title="Secret report")
    drill = make_alert(source="BA", releasable_to=["BA"], exercise=True, title="Drill report")
    app_server.ingest(secret, drill)
    for user, action in ((acker, "ack"), (resolver, "resolve")):
        done = httpx.post(f"{app_server.url}/api/v1/alerts/{secret['id']}/{action}", json={}, headers=user.headers,
                          timeout=10)
        assert done.status_code == 200, done.text
    now_ms = int((datetime.now(UTC) + timedelta(seconds=1)).timestamp() * 1000)
    web = _web(app_server, resolver)
    shown = _callback(web, "replay-list", {"replay-slider.value": now_ms}, "replay-slider.value")
    web.close()
    items = {i["id"]: i for i in shown["replay-list"]["data"]}
    assert json.loads(items[secret["id"]]["marking"]["data-marking"])["classification"] == "SECRET"
    text = str(items[secret["id"]])
    assert "SECRET//REL TO BA" in text and "resolved by" not in text and "acknowledged by rpc-ack-ba" in text
    assert items[drill["id"]]["exercise"] == "EXERCISE" and items[secret["id"]]["exercise"] == ""


def test_rpc003_play_moves_by_real_time_and_step_can_skip_asset_movements(app_server):
    from dashboard.pages.replay import TICK_MS, advance

    assert advance(1_000, 60, last_tick=10_000, now=12_500, high=10**9) == 1_000 + 60 * 2_500  # 2.5 s later
    assert advance(1_000, 5, last_tick=None, now=12_500, high=10**9) == 1_000 + 5 * TICK_MS  # the first tick
    assert advance(1_000, 60, last_tick=0, now=10**6, high=5_000) == 5_000  # never past now

    rs = add_user(app_server.services.settings.redis_url, app_server.prefix, "rpc-step-rs", "duty_officer", "RS")
    before = int(datetime.now(UTC).timestamp() * 1000) - 1
    centre = app_server.services.centre
    for i in range(3):
        centre.assets.put(make_asset(f"rpc-a{i}", 44.0, 20.0 + i / 10))
    alert = make_alert(source="RS", releasable_to=["RS"])
    app_server.ingest(alert)
    web = _web(app_server, rs)
    values = {"replay-slider.value": before, "replay-slider.max": before + 10, "replay-slider.min": before - 10,
              "replay-speed.value": 15}
    step = lambda kind: _callback(web, "replay-message", {**values, "replay-step-kind.value": kind},  # noqa: E731
                                  "replay-step.n_clicks")["replay-slider"]["value"]
    by_alert, by_any = step("alerts"), step("all")
    early = _callback(web, "replay-message", {**values, "replay-at.value": "2000-01-01T00:00:00Z"},
                      "replay-at.value")
    late = _callback(web, "replay-message", {**values, "replay-at.value": "2199-01-01T00:00:00Z"}, "replay-at.value")
    web.close()
    events = app_server.api("/timeline", rs, since=datetime.fromtimestamp(before / 1000, UTC).isoformat()).json()
    first_alert = next(e for e in events["events"] if e["stream"] == "alerts")
    assert by_alert == int(datetime.fromisoformat(first_alert["at"]).timestamp() * 1000) and by_any < by_alert
    assert early["replay-slider"]["value"] == before - 10 and "record starts" in early["replay-message"]["children"]
    assert late["replay-slider"]["value"] == late["replay-slider"]["max"] < before + 120_000
    assert "after now" in late["replay-message"]["children"]


def test_rpc004_a_seek_shows_only_the_newest_page_of_alerts_and_says_how_many_there_were(app_server, monkeypatch):
    """At 100,000 alerts a seek built every alert into the map and the list (tens of seconds, a huge page): the
    page asks for at most ``PAGE_ALERTS``, the newest reports, and its count says "newest N of M"."""
    from dashboard.pages import replay as page

    monkeypatch.setattr(page, "PAGE_ALERTS", 3)
    mk = add_user(app_server.services.settings.redis_url, app_server.prefix, "rpc-page-mk", "duty_officer", "MK")
    start = datetime.now(UTC) - timedelta(hours=1)
    sent = [make_alert(source="MK", releasable_to=["MK"], reported_at=(start + timedelta(minutes=m)).isoformat())
            for m in (5, 40, 1, 30, 12)]
    app_server.ingest(*sent)
    now_ms = int((datetime.now(UTC) + timedelta(seconds=1)).timestamp() * 1000)
    web = _web(app_server, mk)
    shown = _callback(web, "replay-list", {"replay-slider.value": now_ms}, "replay-slider.value")
    web.close()
    items = [i["id"] for i in shown["replay-list"]["data"]]
    assert items == [sent[i]["id"] for i in (1, 3, 4)]  # the newest three reports, newest first
    assert shown["replay-count"]["children"] == "newest 3 of 5"
    monkeypatch.setattr(page, "PAGE_ALERTS", 5)
    web = _web(app_server, mk)
    whole = _callback(web, "replay-list", {"replay-slider.value": now_ms}, "replay-slider.value")
    web.close()
    assert len(whole["replay-list"]["data"]) == 5 and whole["replay-count"]["children"] == "5"
