"""Timeline, state at a moment and the AAR over HTTP: shapes, the caller's releasability, bad times -> 422."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from alerts import i18n
from alerts.actions.errors import Invalid
from dashboard.api.replay import instant
from tests.conftest import add_user, make_alert


def test_rpa001_timeline_and_state_answer_per_nation_and_refuse_bad_times(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    rs = add_user(url, prefix, "rpa-duty-rs", "duty_officer", "RS")
    ba = add_user(url, prefix, "rpa-duty-ba", "duty_officer", "BA")
    shared, own = make_alert(releasable_to=["RS", "BA"]), make_alert(releasable_to=["RS"], title="RS eyes only")
    app_server.ingest(shared, own)
    ack = httpx.post(f"{app_server.url}/api/v1/alerts/{shared['id']}/ack", headers=rs.headers, timeout=10)
    assert ack.status_code == 200, ack.text
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()

    for user, expected in ((rs, {shared["id"], own["id"]}), (ba, {shared["id"]})):
        state = app_server.api("/state", user, at=later)
        assert state.status_code == 200, state.text
        assert {a["id"] for a in state.json()["alerts"]} == expected
        assert {a["id"]: a["status"] for a in state.json()["alerts"]}[shared["id"]] == "acknowledged"
        assert {a["id"]: a["acknowledged_by"] for a in state.json()["alerts"]}[shared["id"]] == "rpa-duty-rs"
        events = app_server.api("/timeline", user).json()["events"]
        assert {e["object"] for e in events if e["stream"] == "alerts"} == expected
        assert [e["id"] for e in events] == sorted((e["id"] for e in events),
                                                   key=lambda i: tuple(map(int, i.split("-"))))
    assert "RS eyes only" not in app_server.api("/timeline", ba).text
    newest = app_server.api("/state", rs, at=later, limit=1).json()  # the newest report only, and it says so
    assert newest["truncated"] is True and [a["id"] for a in newest["alerts"]] == [own["id"]]
    assert app_server.api("/state", rs, at=later).json()["truncated"] is False
    assert app_server.api("/state", rs, at=later, limit=0).status_code == 422

    assert app_server.api("/state", rs, at="yesterday").status_code == 422
    assert app_server.api("/state", rs).status_code == 422
    assert app_server.api("/timeline", rs, since="2026-13-01T00:00:00Z").status_code == 422
    assert app_server.api("/timeline", rs, since=later, until="2020-01-01T00:00:00Z").status_code == 422
    assert app_server.api("/aar", rs, since=later, until="2020-01-01T00:00:00Z").status_code == 422
    assert app_server.api("/timeline", rs, exercise="ex-nope").status_code == 404
    report = app_server.api("/aar", rs, since="2020-01-01T00:00:00Z", until=later, format="md")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/markdown")
    assert shared["id"].replace("-", "\\-") in report.text or shared["id"] in report.text


def test_rpa002_blank_times_are_refused_with_a_reason_not_a_server_error(app_server):
    rs = add_user(app_server.services.settings.redis_url, app_server.prefix, "rpa-blank-rs", "duty_officer", "RS")
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    for blank in ("", "   "):
        for path, params in (("/state", {"at": blank}), ("/aar", {"since": blank, "until": later}),
                             ("/aar", {"since": "2020-01-01T00:00:00Z", "until": blank})):
            answer = app_server.api(path, rs, **params)
            assert answer.status_code == 422, (path, params, answer.text)
            assert "give a time" in answer.text
        assert app_server.api("/timeline", rs, since=blank, until=blank).status_code == 200


def test_rpa003_every_aar_download_is_audited(app_server):
    import redis

    from alerts.store.audit import AuditLog
    from alerts.store.keys import Keys

    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    lead = add_user(url, prefix, "rpa-lead-rs", "duty_officer", "RS")
    window = {"since": "2020-01-01T00:00:00Z", "until": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}
    for format_ in ("md", "xlsx"):
        assert app_server.api("/aar", lead, format=format_, **window).status_code == 200
    exported = [e for e in AuditLog(redis.Redis.from_url(url), Keys(prefix)).read_all()
                if e.action == "export.aar" and e.actor == lead.name]
    assert [(e.object, e.detail["format"]) for e in exported] == [("incident", "md"), ("incident", "xlsx")]
    assert exported[0].detail["window"]["since"].startswith("2020-01-01")


def test_rpa004_state_says_how_many_alerts_the_caller_could_see_beside_truncated(app_server):
    rs = add_user(app_server.services.settings.redis_url, app_server.prefix, "rpa-total-rs", "duty_officer", "RS")
    before = app_server.api("/state", rs, at=datetime.now(UTC).isoformat()).json()["total"]  # the module's server
    app_server.ingest(*(make_alert(releasable_to=["RS"]) for _ in range(3)),
                      make_alert(releasable_to=["BA"]))  # not the caller's: not counted
    later, total = (datetime.now(UTC) + timedelta(seconds=1)).isoformat(), before + 3
    cut = app_server.api("/state", rs, at=later, limit=2).json()
    assert (cut["truncated"], cut["total"], len(cut["alerts"])) == (True, total, 2)
    whole = app_server.api("/state", rs, at=later, limit=total).json()
    assert (whole["truncated"], whole["total"], len(whole["alerts"])) == (False, total, total)
    described = httpx.get(f"{app_server.url}/openapi.json", headers=rs.headers, timeout=10).json()
    schema = described["components"]["schemas"]["StateOut"]
    assert "total" in schema["properties"] and "total" in schema["required"]


def test_rpa005_a_forgotten_record_leaves_no_parsed_record_or_answer_behind(app_server):
    """The breaker's rounds grew 366 → 429 → 521 → 619 MB: the API kept each answer's record objects (up to
    200,000) after the record was forgotten. Now both caches empty with it."""
    import gc
    from dataclasses import replace

    from alerts.actions.replay import forget_idle
    from alerts.core.record import parsed_alert
    from dashboard.api import replay as api

    rs = add_user(app_server.services.settings.redis_url, app_server.prefix, "rpa-forget-rs", "duty_officer", "RS")
    app_server.ingest(*[make_alert(releasable_to=["RS"]) for _ in range(5)])
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    assert app_server.api("/timeline", rs).status_code == app_server.api("/state", rs, at=later).status_code == 200
    assert api._SHOWN and parsed_alert.cache_info().currsize
    assert forget_idle(replace(app_server.services.centre, record_idle=timedelta(0)))
    gc.collect()
    assert parsed_alert.cache_info().currsize == 0 and not api._SHOWN


def test_rpa006_the_timeline_names_an_alerts_replacement_when_it_shows_the_replacement(app_server):
    url, prefix = app_server.services.settings.redis_url, app_server.prefix
    rs = add_user(url, prefix, "rpa-super-rs", "duty_officer", "RS")
    gr = add_user(url, prefix, "rpa-super-gr", "duty_officer", "GR")
    first = make_alert(source="RS", releasable_to=["RS", "GR"])
    update = make_alert(source="RS", releasable_to=["RS"], msg_type="update", references=[first["id"]])
    app_server.ingest(first)
    app_server.ingest(update)
    for user, expected in ((rs, update["id"]), (gr, None)):  # GR may not see the update: not named to it
        events = app_server.api("/timeline", user).json()["events"]
        last = [e["alert"] for e in events if e["object"] == first["id"]][-1]
        assert last.get("superseded_by") == expected, user.name


def test_rpa007_a_bad_time_is_refused_in_the_callers_language():
    """The reason a time is refused (``alerts.core.times``) is a message of its own, said in the caller's
    language inside the API's own sentence; the English ``message`` (the API's ``detail``) is unchanged."""
    token = i18n.use("sr-Cyrl")
    try:
        with pytest.raises(Invalid) as blank:
            instant(" ", "since", required=True)
        with pytest.raises(Invalid) as bad:
            instant("yesterday", "until")
        shown = (blank.value.localized(), bad.value.localized())
    finally:
        i18n.reset(token)
    assert blank.value.message == "since: give a time (ISO 8601 with an offset, e.g. 2026-01-01T10:00:00Z)"
    assert bad.value.message == "until: until is not a date-time (RFC 3339, e.g. 2024-05-01T10:15:00Z): 'yesterday'"
    assert shown == ("since: наведите време (ISO 8601 са помаком, нпр. 2026-01-01T10:00:00Z)",
                     "until: until није датум и време (RFC 3339, нпр. 2024-05-01T10:15:00Z): 'yesterday'")
