"""The summary API's situation figures, SITREP exports through the API and the CLI, with releasability."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

import geopandas as gpd
import pytest
import redis

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import ROOT, add_user, make_alert, payload, wait_for

WINDOW = {"since": "2015-05-05T00:00:00Z", "until": "2015-05-06T00:00:00Z"}


def _csv_rows(text: str) -> list[dict]:
    """The incident rows of a SITREP CSV (its first row is the marking line, then the header)."""
    marking, _, rest = text.partition("\n")
    assert next(csv.reader([marking]))[0].startswith("UNCLASSIFIED"), marking  # a quoted CSV cell
    return list(csv.DictReader(io.StringIO(rest)))


@pytest.fixture(scope="module")
def seeded(server, redis_url, users):
    """One alert released to all and one to RS only, seeded once for the module."""
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    shared = make_alert(reported_at="2015-05-05T05:00:00Z", severity="critical", releasable_to=["ALL"])
    secret = make_alert(reported_at="2015-05-05T06:00:00Z", severity="high", releasable_to=["RS"], source="RS")
    send_to_stream(client, keys, [payload(shared), payload(secret)])
    wait_for(lambda: secret["id"] in server.alert_ids(users["duty-rs"], **WINDOW), what="the seeded alerts")
    return shared, secret


def test_sia001_summary_carries_the_situation_figures(server, users, seeded):
    shared, secret = seeded
    rs = server.api("/summary", users["duty-rs"], **WINDOW).json()
    hr = server.api("/summary", users["lead-hr"], **WINDOW).json()
    for key in ("open_by_severity", "escalated_alerts", "time_to_acknowledge", "time_to_resolve", "trend",
                "open_by_country", "open_critical_high", "assets"):
        assert key in rs, key
    assert {i["id"] for i in rs["open_critical_high"]} >= {shared["id"], secret["id"]}
    assert secret["id"] not in {i["id"] for i in hr["open_critical_high"]}
    assert sum(map(sum, rs["trend"]["by_type"].values())) == 2 and sum(map(sum, hr["trend"]["by_type"].values())) == 1


def test_sia002_sitrep_formats_parse_and_respect_releasability(server, users, seeded):
    shared, secret = seeded
    leader, officer = users["lead-hr"], users["duty-rs"]
    markdown = server.api("/sitrep", leader, format="md", **WINDOW)
    assert markdown.status_code == 200 and "## 4. Outlook" in markdown.text and "UNCLASSIFIED" in markdown.text
    rows = _csv_rows(server.api("/sitrep", leader, format="csv", **WINDOW).text)
    assert {r["id"] for r in rows} == {shared["id"]}
    rows = _csv_rows(server.api("/sitrep", officer, format="csv", **WINDOW).text)
    assert {r["id"] for r in rows} == {shared["id"], secret["id"]}
    collection = server.api("/sitrep", officer, format="geojson", **WINDOW).json()
    frame = gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")
    assert len(frame) == 2 and frame.geometry.is_valid.all()
    page = server.api("/sitrep", leader, format="html", **WINDOW)
    assert page.headers["content-type"].startswith("text/html") and page.text.count('class="banner') == 2
    assert server.api("/sitrep", users["resp-gr"], format="md").status_code == 403
    assert server.api("/sitrep", leader, format="pdf").status_code == 422
    audit = server.api("/audit", add_user(server.redis_url, server.prefix, "auditor-sia002", "auditor", "GR")).json()
    assert {("lead-hr", "csv"), ("duty-rs", "geojson")} <= {(e["actor"], e["object"]) for e in audit["items"]
                                                            if e["action"] == "export.sitrep"}
    by_others = server.api("/audit", users["admin-mk"]).json()["items"]  # MK's admin: not other nations' exports
    assert not [e for e in by_others if e["action"] == "export.sitrep"]


def test_sia003_the_cli_prints_a_sitrep(server, users, redis_url, seeded):
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "sitrep", "--format", "csv", "--since", "2015-05-05T00:00:00Z",
         "--user", users["lead-hr"].name, "--redis-url", redis_url, "--prefix", server.prefix],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = _csv_rows(result.stdout)
    assert rows and all(r["id"] for r in rows)
    denied = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "sitrep", "--user", users["resp-gr"].name, "--redis-url", redis_url,
         "--prefix", server.prefix], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert denied.returncode == 2 and "may not export" in denied.stderr


def test_sia004_an_inverted_period_is_refused_not_reported_as_calm(server, users, seeded):
    """``since`` after ``until`` used to answer 200 with an empty report: a SITREP saying nothing happened."""
    lead = users["lead-hr"]
    inverted = server.api("/sitrep", lead, format="md", since="2026-11-02T00:00:00Z", until="2026-11-01T00:00:00Z")
    assert inverted.status_code == 422 and "must be before" in inverted.json()["detail"]
    summary = server.api("/summary", lead, since="2026-11-02T00:00:00Z", until="2026-11-01T00:00:00Z")
    assert summary.status_code == 422
