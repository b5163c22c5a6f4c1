"""Situation figures and SITREP exports against a scripted scenario with known answers (real Redis, moved clock)."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import pandas as pd
import redis
import shapely.geometry

from alerts.formats import sitrep
from alerts.core.checklists import Templates
from alerts.core.index import AlertIndex
from alerts.core.markings import Marking
from alerts.core.query import AlertQuery
from alerts.core.situation import ResponseTimes, situation
from alerts.store.alerts import AlertStore
from alerts.store.workflow import WorkflowStore
from tests.conftest import ROOT, alert_pipeline, make_alert, mark, payload
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _scenario(redis_url, keys, regions):
    """Ten alerts received at T0 (one an hour apart by report time); acknowledged after 1..10 minutes,
    the first three resolved after 30, 60 and 90 minutes; one escalated and still unacknowledged."""
    client = redis.Redis.from_url(redis_url)
    clock = Clock(T0)
    store = AlertStore(client, keys)
    pipeline = alert_pipeline(client, keys, regions, store=store, clock=clock)
    workflow = WorkflowStore(client, keys, store, Templates.load(ROOT / "checklists"))
    pipeline.on_recorded = workflow.open_checklists
    specs = [("critical", "terrorism", {"lat": 44.82, "lon": 20.46}), ("high", "cyber", {"lat": 44.82, "lon": 20.46}),
             ("high", "hazmat", {"lat": 42.67, "lon": 21.17}), ("medium", "cyber", {"lat": 41.33, "lon": 19.82}),
             ("low", "other", {"lat": 41.33, "lon": 19.82}), ("low", "other", {"lat": 45.8, "lon": 15.97}),
             ("medium", "cyber", {"lat": 45.8, "lon": 15.97}), ("high", "cyber", {"lat": 44.82, "lon": 20.46}),
             ("critical", "hazmat", {"lat": 42.0, "lon": 21.43}), ("low", "other", {"lat": 42.0, "lon": 21.43})]
    alerts = [make_alert(id=f"sit-{i}", severity=s, type=t, location=loc, exercise=(i == 8),
                         reported_at=(T0 + timedelta(hours=i - 10)).isoformat())
              for i, (s, t, loc) in enumerate(specs)]
    escalated = make_alert(id="sit-esc", severity="critical", type="terrorism", reported_at=T0.isoformat(),
                           location={"lat": 43.85, "lon": 18.39})
    pipeline.process([("t", payload(a)) for a in [*alerts, escalated]])
    for minutes, alert in enumerate(alerts, start=1):
        clock.now = T0 + timedelta(minutes=minutes)
        assert workflow.acknowledge(alert["id"], mark(f"officer-{minutes}", clock()))[0]
    for minutes, alert in zip((30, 60, 90), alerts[:3]):
        clock.now = T0 + timedelta(minutes=minutes)
        workflow.resolve(alert["id"], mark("duty-rs", clock()))
    client.hset(keys.escalation, "sit-esc", json.dumps({"level": 1, "reason": "not acknowledged"}))
    index = AlertIndex()
    index.load(store.all_alerts(), store.last_event_id())
    return index, workflow.response_times()


def test_sit001_figures_match_the_scripted_scenario(redis_url, keys, regions):
    index, times = _scenario(redis_url, keys, regions)
    rows = index.select(AlertQuery())
    figures = situation(rows, times, T0 - timedelta(hours=12), T0 + timedelta(hours=2))
    assert figures["open_alerts"] == 8  # 11 less the 3 resolved
    assert figures["open_by_severity"] == {"critical": 2, "high": 1, "medium": 2, "low": 3}
    assert figures["escalated_alerts"] == 1
    # acknowledged after 1..10 minutes: median 5.5 min, p90 9.1 min (linear interpolation)
    assert figures["time_to_acknowledge"] == {"count": 10, "median_s": 330.0, "p90_s": 546.0}
    # resolved after 30, 60, 90 minutes: median 60 min, p90 84 min
    assert figures["time_to_resolve"] == {"count": 3, "median_s": 3600.0, "p90_s": 5040.0}
    assert figures["open_by_country"] == {"AL": 2, "BA": 1, "HR": 2, "MK": 2, "RS": 1}
    trend = figures["trend"]
    assert len(trend["hours"]) == 14 and sum(map(sum, trend["by_type"].values())) == 11
    assert trend["by_type"]["cyber"][trend["hours"].index((T0 - timedelta(hours=9)).isoformat())] == 1
    table = figures["open_critical_high"]
    assert [i["id"] for i in table] == ["sit-esc", "sit-8", "sit-7"]  # critical first, newest first
    assert table[0]["owner"] == "" and table[0]["escalation_level"] == 1 and table[1]["owner"] == "officer-9"
    assert table[1]["exercise"] is True


def test_sit002_a_narrower_window_measures_only_what_was_received_in_it(redis_url, keys, regions):
    index, times = _scenario(redis_url, keys, regions)
    later = situation(index.select(AlertQuery()), times, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert later["time_to_acknowledge"] == {"count": 0, "median_s": None, "p90_s": None}
    assert later["open_alerts"] == 8  # open is open, whatever the window


def test_sit003_exports_parse(redis_url, keys, regions):
    index, times = _scenario(redis_url, keys, regions)
    rows = index.select(AlertQuery())
    figures = situation(rows, times, T0 - timedelta(hours=12), T0 + timedelta(hours=2))
    alerts = [index.get(i) for i in rows["id"]]
    marking, *lines = sitrep.incidents_csv(alerts).splitlines(keepends=True)
    assert next(csv.reader([marking])) == ["UNCLASSIFIED"]  # the first row: the marking of the file's incidents
    table = list(csv.DictReader(io.StringIO("".join(lines))))
    assert len(table) == 11 and set(table[0]) == set(sitrep.CSV_COLUMNS)
    assert {r["id"] for r in table if r["exercise"] == "EXERCISE"} == {"sit-8"}
    collection = sitrep.incidents_geojson(alerts)
    frame = gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")
    assert len(frame) == 11 and frame.geometry.is_valid.all()
    assert frame.geometry.iloc[0].equals(shapely.geometry.Point(alerts[0].lon, alerts[0].lat))
    report = sitrep.markdown(figures, Marking("UNCLASSIFIED", releasable_to=("RS",)), T0, "RS")
    assert report.startswith("**UNCLASSIFIED//REL TO RS**") and report.rstrip().endswith("**UNCLASSIFIED//REL TO RS**")
    for heading in ("## 1. Situation", "## 2. Actions taken", "## 3. Resources committed", "## 4. Outlook"):
        assert heading in report
    assert "10 alerts acknowledged (median 5.5 min" in report
    # every open incident row starts with its report time, in the report's one format
    urgent = figures["open_critical_high"][0]
    reported = datetime.fromisoformat(urgent["reported_at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
    assert f"| {reported} | {urgent['severity'].upper()} |" in report
    one = dict(figures, assets={"ready": 0, "committed": 1, "by_nation": {}, "by_type": {}})
    assert "1 asset committed" in sitrep.markdown(one, Marking("UNCLASSIFIED"), T0, "RS")
    assert "EXERCISE" in report
    page = sitrep.html_page(figures, Marking("UNCLASSIFIED"), T0, "RS")
    assert page.count('class="banner') == 2 and "<h2>4. Outlook</h2>" in page


def test_sit004_assets_are_counted_by_nation_and_type():
    assets = pd.DataFrame([{"nation": "RS", "type": "eod_team", "status": "ready"},
                           {"nation": "RS", "type": "eod_team", "status": "committed"},
                           {"nation": "GR", "type": "medical_team", "status": "maintenance"}])
    figures = situation(AlertIndex().select(AlertQuery()), ResponseTimes(),
                        T0, T0 + timedelta(hours=1), assets)
    assert figures["assets"] == {"ready": 1, "committed": 1, "by_nation": {"RS": {"ready": 1, "committed": 1}},
                                 "by_type": {"eod_team": {"ready": 1, "committed": 1}}}


def test_sit007_a_window_of_a_century_is_answered_with_a_bounded_trend():
    from alerts.core.situation import MAX_TREND_HOURS

    until = datetime(2026, 11, 29, tzinfo=UTC)
    figures = situation(AlertIndex().select(AlertQuery()), ResponseTimes(), datetime(1900, 1, 1, tzinfo=UTC), until)
    assert len(figures["trend"]["hours"]) == MAX_TREND_HOURS
    assert figures["trend"]["hours"][-1] == (until - timedelta(hours=1)).isoformat()
    assert figures["window"]["since"].startswith("1900")


def test_sit008_times_outside_1900_2200_are_refused_as_query_parameters():
    import pytest

    from alerts.core.query import BadQuery, parse_query

    for value in ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "yesterday"):
        with pytest.raises(BadQuery, match="since"):
            parse_query({"since": [value]}, lambda: datetime(2026, 11, 29, tzinfo=UTC))
    assert parse_query({"until": ["2016-12-31T23:59:60Z"]}, lambda: None).until == datetime(2017, 1, 1, tzinfo=UTC)

