"""Hostile alerts through ingest and out through the SITREP API: nothing in them acts in the reader's tools."""
from __future__ import annotations

import csv
import io

from lxml import etree
from markdown_it import MarkdownIt

from alerts.formats.escape import FORMULA_STARTS
from tests.conftest import add_user, make_alert

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)"]
MARKUP = "<img src=x onerror=alert(1)> [click](http://evil.example) ![t](http://evil.example/t.png) | x |"


def test_xin001_sitrep_csv_markdown_and_html_neutralise_hostile_alerts(app_server, redis_url):
    officer = add_user(redis_url, app_server.prefix, "duty-xin", "duty_officer", "RS")
    alerts = [make_alert(title=title, severity="high", source=title[:20]) for title in [*FORMULAS, MARKUP]]
    app_server.ingest(*alerts)
    window = {"window_hours": "1"}

    text = app_server.api("/sitrep", officer, format="csv", **window).text
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1], newline="")))
    titles = {row["title"] for row in rows}
    assert {"'" + f for f in FORMULAS} <= titles  # 4 of 4 formula payloads neutralised
    assert [c for row in rows for c in row.values() if c[:1] in FORMULA_STARTS] == []

    report = app_server.api("/sitrep", officer, format="md", **window).text
    rendered = etree.HTML(MarkdownIt("commonmark", {"html": True}).enable("table").render(report))
    assert rendered.xpath("//img|//a|//script") == []
    assert MARKUP in rendered.xpath("string(//table[2])")

    page = app_server.api("/sitrep", officer, format="html", **window)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    tree = etree.HTML(page.text)
    assert tree.xpath("//img|//a|//script") == [] and MARKUP in tree.xpath("string(//table[2])")
