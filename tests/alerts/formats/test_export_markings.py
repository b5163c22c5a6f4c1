"""Every export format carries the marking of its content, in the form that format expects.

The content's marking is the most restrictive over its alerts (highest
classification and TLP, every caveat, the nations all are released to);
content without alerts carries the lowest level. Formats are called directly
on stored alerts with set routings (no Redis needed).
"""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from lxml import etree

from alerts.core.markings import Classifications, Marking, Tlp
from alerts.core.model import Alert, Placement, Routing, StoredAlert
from alerts.core.routing import route
from alerts.core.feeds import FeedRegistry
from alerts.formats import sitrep
from alerts.formats.cot.encode import events_document, stream_bytes
from alerts.formats.decode import decode_alert
from alerts.formats.geojson import feature_collection
from tests.conftest import make_alert, make_asset

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SCHEME = Classifications()
SECRET_ROUTING = Routing(nation="RS", releasable_to=["RS", "HR", "XK"], classification="CONFIDENTIAL",
                         caveats=["FOUO"], tlp=Tlp.AMBER)
OPEN_ROUTING = Routing(releasable_to=["ALL"], tlp=Tlp.GREEN)
SECRET_LINE = "CONFIDENTIAL//FOUO//REL TO RS, HR, XK TLP:AMBER"


def _stored(routing: Routing, **fields) -> StoredAlert:
    alert = Alert.model_validate(make_alert(**fields))
    point = alert.point()
    return StoredAlert(alert=alert, placement=Placement(country="RS", countries=["RS"]), received_at=NOW,
                       lon=point[0] if point else None, lat=point[1] if point else None, routing=routing)


def _both() -> list[StoredAlert]:
    return [_stored(SECRET_ROUTING, title="Marked"), _stored(OPEN_ROUTING, title="Open")]


def test_emx001_csv_first_row_is_the_marking_then_the_header_and_marked_rows():
    text = sitrep.incidents_csv(_both(), SCHEME)
    first, *rest = list(csv.reader(io.StringIO(text)))
    assert first == [SECRET_LINE]
    assert rest[0] == sitrep.CSV_COLUMNS and rest[0][-4:] == ["classification", "caveats", "tlp", "releasable_to"]
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1])))
    assert [(r["classification"], r["caveats"], r["tlp"], r["releasable_to"]) for r in rows] == [
        ("CONFIDENTIAL", "FOUO", "AMBER", "RS;HR;XK"), ("UNCLASSIFIED", "", "GREEN", "ALL")]
    # only the open alert: its own marking; none at all: the lowest level
    assert next(csv.reader(io.StringIO(sitrep.incidents_csv(_both()[1:], SCHEME)))) == ["UNCLASSIFIED TLP:GREEN"]
    assert next(csv.reader(io.StringIO(sitrep.incidents_csv([], SCHEME)))) == ["UNCLASSIFIED"]


def test_emx002_geojson_has_a_top_level_marking_and_marked_feature_properties():
    collection = json.loads(json.dumps(feature_collection(_both(), [make_asset("u1", 44.0, 20.0)], SCHEME)))
    assert collection["marking"] == {"classification": "CONFIDENTIAL", "caveats": ["FOUO"], "tlp": "AMBER",
                                     "releasable_to": ["RS", "HR", "XK"], "line": SECRET_LINE}
    marked, unmarked, asset = collection["features"]
    assert {k: marked["properties"][k] for k in ("classification", "caveats", "tlp", "releasable_to")} == {
        "classification": "CONFIDENTIAL", "caveats": ["FOUO"], "tlp": "AMBER", "releasable_to": ["RS", "HR", "XK"]}
    assert {k: unmarked["properties"][k] for k in ("classification", "caveats", "tlp", "releasable_to")} == {
        "classification": "UNCLASSIFIED", "caveats": [], "tlp": "GREEN", "releasable_to": ["ALL"]}
    assert asset["properties"]["type"] == "medical_team"  # assets stay in the form assets import reads
    # the SITREP's GeoJSON is the same collection; assets only (no alerts): the lowest level
    assert sitrep.incidents_geojson(_both(), [], SCHEME)["marking"]["line"] == SECRET_LINE
    assert feature_collection([], [make_asset("u1", 44.0, 20.0)], SCHEME)["marking"] == Marking("UNCLASSIFIED").as_dict()


def test_emx003_geojson_markings_read_back_as_the_alert_markings():
    exported = feature_collection(_both()[:1], scheme=SCHEME)["features"][0]
    again = decode_alert(json.dumps(exported).encode())
    assert (again.classification, again.caveats, again.tlp, again.releasable_to) == (
        "CONFIDENTIAL", ["FOUO"], "AMBER", ["RS", "HR", "XK"])


def test_emx004_cot_events_carry_access_caveat_and_releasable_to_as_trigraphs():
    asset = make_asset("u1", 44.0, 20.0, releasable_to=["RS", "GR"])
    raw = events_document(_both(), NOW, [asset], SCHEME)
    root = etree.fromstring(raw)
    marked, unmarked, unit = root.findall("event")
    assert (marked.get("access"), marked.get("caveat"), marked.get("releasableTo")) == (
        "CONFIDENTIAL", "FOUO", "SRB HRV XKX")
    assert unmarked.get("access") == "UNCLASSIFIED" and unmarked.get("caveat") is None
    assert unmarked.get("releasableTo") is None  # released to all: no restriction to state
    assert marked.find("detail/crisis").get("tlp") == "AMBER"  # CoT has no TLP attribute
    assert (unit.get("access"), unit.get("releasableTo")) == ("UNCLASSIFIED", "SRB GRC")
    # the document: its marking in a comment before the root, and on the root
    comment = root.getprevious()
    assert isinstance(comment, etree._Comment) and comment.text.strip() == SECRET_LINE
    assert raw.index(b"<!--") < raw.index(b"<events")
    assert (root.get("access"), root.get("caveat"), root.get("releasableTo")) == ("CONFIDENTIAL", "FOUO", "SRB HRV XKX")
    empty = etree.fromstring(events_document([], NOW, [], SCHEME))
    assert empty.getprevious().text.strip() == "UNCLASSIFIED" and empty.get("access") == "UNCLASSIFIED"


def test_emx005_the_tak_stream_carries_the_same_attributes_and_tak_reads_them_as_we_do():
    stored = _both()[0]
    event = etree.fromstring(stream_bytes(stored, NOW, SCHEME).strip())  # open: one event, no deletion
    assert (event.get("access"), event.get("caveat"), event.get("releasableTo")) == (
        "CONFIDENTIAL", "FOUO", "SRB HRV XKX")
    # The same attributes on a TAK emergency (no crisis detail) are read back by ingest as this marking.
    event.find("detail").remove(event.find("detail/crisis"))
    event.set("type", "b-a-o-tbl")
    tak = decode_alert(etree.tostring(event))
    routing = route(tak, FeedRegistry(), SCHEME)
    assert routing.marking(SCHEME) == Marking("CONFIDENTIAL", ("FOUO",), None, ("RS", "HR", "XK"))


def test_emx006_cot_comment_stays_well_formed_whatever_the_caveats():
    odd = _stored(Routing(releasable_to=["ALL"], caveats=["A--B", "C-"]))
    root = etree.fromstring(events_document([odd], NOW, [], SCHEME))
    assert "--" not in root.getprevious().text and root.get("caveat") == "A--B,C-"


def _figures(alerts: list[StoredAlert]) -> dict:
    incidents = [{"id": s.id, "title": s.alert.title, "severity": "high", "type": "border_incident", "status": "new",
                  "country": "RS", "region": "", "reported_at": NOW.isoformat(), "owner": "", "exercise": False,
                  "escalation_level": 0} for s in alerts]
    return {"window": {"since": NOW.isoformat(), "until": NOW.isoformat()}, "open_alerts": len(alerts),
            "open_by_severity": {"critical": 0, "high": len(alerts), "medium": 0, "low": 0}, "escalated_alerts": 0,
            "time_to_acknowledge": {"count": 0, "median_s": None, "p90_s": None},
            "time_to_resolve": {"count": 0, "median_s": None, "p90_s": None}, "open_by_country": {"RS": len(alerts)},
            "open_critical_high": incidents, "assets": {"ready": 0, "committed": 0, "by_nation": {}, "by_type": {}}}


def test_emx007_markdown_and_html_banners_top_and_bottom_and_each_incident_marked():
    alerts = _both()
    marking = Marking("CONFIDENTIAL", ("FOUO",), Tlp.AMBER, ("RS", "HR", "XK"))
    markings = {s.id: s.routing.marking(SCHEME) for s in alerts}
    report = sitrep.markdown(_figures(alerts), marking, NOW, "RS", markings)
    lines = report.strip().splitlines()
    assert lines[0] == lines[-1] == f"**{SECRET_LINE}**"
    assert "| Reported (UTC) | Severity | Incident | Where | Status | Owner | Marking |" in report
    assert f"| Marked | RS | new | - | {SECRET_LINE} |" in report
    assert "| Open | RS | new | - | UNCLASSIFIED TLP:GREEN |" in report
    page = sitrep.html_page(_figures(alerts), marking, NOW, "RS", markings, SCHEME)
    tree = etree.HTML(page)
    banners = tree.xpath('//div[contains(@class, "banner")]')
    assert len(banners) == 2 and all("".join(b.itertext()) == SECRET_LINE for b in banners)
    assert banners[0].find("span").get("class") == "tlp" and "#0033a0" in page  # CONFIDENTIAL's colour
    assert f"<td>{SECRET_LINE}</td>" in page and "<td>UNCLASSIFIED TLP:GREEN</td>" in page


def test_emx008_an_unmarked_alert_takes_the_deployments_lowest_level():
    scheme = Classifications(("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET"))
    plain = _stored(Routing(releasable_to=["ALL"]))
    assert next(csv.reader(io.StringIO(sitrep.incidents_csv([plain], scheme)))) == ["OFFICIAL"]
    assert feature_collection([plain], scheme=scheme)["features"][0]["properties"]["classification"] == "OFFICIAL"
    assert etree.fromstring(events_document([plain], NOW, [], scheme)).find("event").get("access") == "OFFICIAL"
    page = sitrep.html_page(_figures([plain]), Marking("OFFICIAL"), NOW, "RS", {}, scheme)
    assert "#007a33" in page  # the lowest level's colour
