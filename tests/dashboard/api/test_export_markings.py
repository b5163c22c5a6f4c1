"""Exports through a running server carry the marking of what each viewer gets; CoT needs the export right.

Two alerts, one day: a CONFIDENTIAL//FOUO alert released to RS and HR with
TLP:AMBER, and an unmarked one released to all with TLP:GREEN. An RS duty
officer cleared to CONFIDENTIAL gets both (the first's marking wins); an HR
leader with the lowest clearance gets only the second (its marking alone).
"""
from __future__ import annotations

import csv
import io

import pytest
import redis
from lxml import etree

from alerts.store.keys import Keys
from alerts.store.producer import send_to_stream
from tests.conftest import add_user, make_alert, payload, wait_for

DAY = {"since": "2017-03-03T00:00:00Z", "until": "2017-03-04T00:00:00Z"}
MARKED = "CONFIDENTIAL//FOUO//REL TO RS, HR TLP:AMBER"
OPEN = "UNCLASSIFIED TLP:GREEN"


@pytest.fixture(scope="module")
def cleared(server):
    """An RS duty officer cleared to CONFIDENTIAL, and an auditor (who reads every audit entry)."""
    return {"officer": add_user(server.redis_url, server.prefix, "duty-rs-conf", "duty_officer", "RS",
                                clearance="CONFIDENTIAL"),
            "auditor": add_user(server.redis_url, server.prefix, "auditor-emk", "auditor", "GR")}


@pytest.fixture(scope="module")
def seeded(server, redis_url, cleared):
    client, keys = redis.Redis.from_url(redis_url), Keys(server.prefix)
    marked = make_alert(title="Marked", reported_at="2017-03-03T06:00:00Z", source="RS", releasable_to=["RS", "HR"],
                        classification="CONFIDENTIAL", caveats=["FOUO"], tlp="AMBER")
    unmarked = make_alert(title="Open", reported_at="2017-03-03T07:00:00Z", releasable_to=["ALL"], tlp="GREEN",
                          location={"lat": 44.8, "lon": 20.46})
    send_to_stream(client, keys, [payload(marked), payload(unmarked)])
    wait_for(lambda: server.alert_ids(cleared["officer"], **DAY) == {marked["id"], unmarked["id"]},
             what="the seeded alerts")
    return marked, unmarked


def _csv(text: str) -> tuple[str, list[dict]]:
    first, _, rest = text.partition("\n")
    return next(csv.reader([first])), list(csv.DictReader(io.StringIO(rest)))


def test_emk001_a_responder_gets_403_and_no_cot_and_an_export_is_audited(server, users, cleared, seeded):
    denied = server.api("/cot", users["resp-gr"], **DAY)
    assert denied.status_code == 403 and b"<event" not in denied.content
    leader = server.api("/cot", users["lead-hr"], **DAY)
    assert leader.status_code == 200 and leader.content.count(b"<event ") == 1
    audit = server.api("/audit", cleared["auditor"]).json()["items"]
    exported = [e for e in audit if e["action"] == "export.cot"]
    assert [(e["actor"], e["object"], e["detail"]["count"]) for e in exported] == [("lead-hr", "cot", 1)]
    assert "since=" in exported[0]["detail"]["query"]


def test_emk002_every_sitrep_format_carries_the_marking_of_what_the_viewer_gets(server, users, cleared, seeded):
    marked, unmarked = seeded
    for viewer, banner, ids in ((cleared["officer"], MARKED, {marked["id"], unmarked["id"]}),
                                (users["lead-hr"], OPEN, {unmarked["id"]})):
        report = server.api("/sitrep", viewer, format="md", **DAY).text.strip().splitlines()
        assert report[0] == report[-1] == f"**{banner}**", viewer.name
        page = server.api("/sitrep", viewer, format="html", **DAY).text
        tree = etree.HTML(page)
        assert ["".join(b.itertext()) for b in tree.xpath('//div[contains(@class, "banner")]')] == [banner, banner]
        first, rows = _csv(server.api("/sitrep", viewer, format="csv", **DAY).text)
        assert first == [banner] and {r["id"] for r in rows} == ids
        collection = server.api("/sitrep", viewer, format="geojson", **DAY).json()
        assert collection["marking"]["line"] == banner
    officer_md = server.api("/sitrep", cleared["officer"], format="md", **DAY).text.splitlines()
    incidents = {line.split(" | ")[2]: line for line in officer_md if " | HIGH | " in line}
    assert incidents["Marked"].endswith(f"| {MARKED} |") and incidents["Open"].endswith(f"| {OPEN} |")
    _, rows = _csv(server.api("/sitrep", cleared["officer"], format="csv", **DAY).text)
    by_id = {r["id"]: r for r in rows}
    assert (by_id[marked["id"]]["classification"], by_id[marked["id"]]["caveats"], by_id[marked["id"]]["tlp"],
            by_id[marked["id"]]["releasable_to"]) == ("CONFIDENTIAL", "FOUO", "AMBER", "RS;HR")
    assert (by_id[unmarked["id"]]["classification"], by_id[unmarked["id"]]["releasable_to"]) == ("UNCLASSIFIED", "ALL")


def test_emk003_geojson_and_cot_exports_are_marked_per_item_and_as_a_whole(server, users, cleared, seeded):
    marked, unmarked = seeded
    officer = server.api("/export/alerts.geojson", cleared["officer"], **DAY).json()
    assert officer["marking"]["line"] == MARKED
    properties = {f["id"]: f["properties"] for f in officer["features"]}
    assert (properties[marked["id"]]["classification"], properties[marked["id"]]["releasable_to"]) == (
        "CONFIDENTIAL", ["RS", "HR"])
    assert server.api("/export/alerts.geojson", users["lead-hr"], **DAY).json()["marking"]["line"] == OPEN
    nothing = server.api("/export/alerts.geojson", cleared["officer"], exercise="exercise", **DAY).json()
    assert nothing["features"] == [] and nothing["marking"]["line"] == "UNCLASSIFIED"  # no alerts: the lowest
    assert server.api("/export/assets.geojson", users["lead-hr"]).json()["marking"]["line"] == "UNCLASSIFIED"
    raw = server.api("/cot", cleared["officer"], **DAY).content
    root = etree.fromstring(raw)
    assert root.getprevious().text.strip() == MARKED
    events = {e.get("uid").removeprefix("crisis.alert."): e for e in root.findall("event")}
    assert (events[marked["id"]].get("access"), events[marked["id"]].get("caveat"),
            events[marked["id"]].get("releasableTo")) == ("CONFIDENTIAL", "FOUO", "SRB HRV")
    assert events[unmarked["id"]].get("access") == "UNCLASSIFIED" and events[unmarked["id"]].get("releasableTo") is None
