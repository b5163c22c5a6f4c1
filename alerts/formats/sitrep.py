"""SITREP exports: a narrative report (Markdown or print-ready HTML), incidents as CSV, incidents as GeoJSON.

The narrative follows the usual SITREP outline, mapped to OASIS EDXL-SitRep 1.0
(see docs/sitrep.md): 1 Situation, 2 Actions taken, 3 Resources committed,
4 Outlook. Every page carries the classification banner; exercise incidents
are marked EXERCISE.
"""
from __future__ import annotations

import csv
import html
import io
from datetime import datetime

from alerts.formats.geojson import feature_collection
from alerts.core.assets import Asset
from alerts.core.model import StoredAlert

CSV_COLUMNS = ["id", "title", "severity", "type", "status", "country", "region", "reported_at", "received_at",
               "exercise", "source", "lat", "lon"]


def _minutes(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:.1f} min"


def _blocks(figures: dict, generated_at: datetime, viewer_nation: str) -> list[tuple[str, object]]:
    """The report as blocks (``h1``, ``h2``, ``p``, ``li``, ``table``), rendered by both formats."""
    window = figures["window"]
    severity = figures["open_by_severity"]
    ack, resolve, assets = figures["time_to_acknowledge"], figures["time_to_resolve"], figures["assets"]
    incidents = [
        [item["severity"].upper(), ("EXERCISE " if item["exercise"] else "") + item["title"],
         ", ".join(p for p in (item["region"], item["country"]) if p), item["status"], item["owner"] or "-"]
        for item in figures["open_critical_high"]
    ]
    return [
        ("h1", f"SITREP {generated_at:%Y-%m-%d %H:%M} UTC"),
        ("p", f"Period {window['since'][:16]} to {window['until'][:16]} UTC; released to {viewer_nation}."),
        ("h2", "1. Situation"),
        ("p", f"{figures['open_alerts']} open alerts: {severity['critical']} critical, {severity['high']} high, "
              f"{severity['medium']} medium, {severity['low']} low; {figures['escalated_alerts']} escalated."),
        ("table", (["Country", "Open"], [[c, str(n)] for c, n in figures["open_by_country"].items()])),
        ("p", "Open critical and high incidents:"),
        ("table", (["Severity", "Incident", "Where", "Status", "Owner"], incidents)),
        ("h2", "2. Actions taken"),
        ("p", f"{ack['count']} alerts acknowledged (median {_minutes(ack['median_s'])}, 90th percentile "
              f"{_minutes(ack['p90_s'])}); {resolve['count']} resolved (median {_minutes(resolve['median_s'])}, "
              f"90th percentile {_minutes(resolve['p90_s'])})."),
        ("h2", "3. Resources committed"),
        ("p", f"{assets['committed']} assets committed, {assets['ready']} ready."),
        *[("li", f"{nation}: {c['committed']} committed, {c['ready']} ready")
          for nation, c in assets["by_nation"].items()],
        ("h2", "4. Outlook"),
        ("p", _outlook(figures)),
    ]


def markdown(figures: dict, classification: str, generated_at: datetime, viewer_nation: str) -> str:
    """The SITREP as Markdown, the classification first and last."""
    lines = [f"**{classification}**", ""]
    for kind, content in _blocks(figures, generated_at, viewer_nation):
        if kind == "h1":
            lines += [f"# {content}", ""]
        elif kind == "h2":
            lines += ["", f"## {content}", ""]
        elif kind == "table":
            header, rows = content
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                      *["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows], ""]
        elif kind == "li":
            lines.append(f"- {content}")
        else:
            lines += [str(content), ""]
    lines += ["", f"**{classification}**", ""]
    return "\n".join(lines)


def _outlook(figures: dict) -> str:
    unowned = [i for i in figures["open_critical_high"] if not i["owner"]]
    parts = []
    if unowned:
        parts.append(f"{len(unowned)} critical or high incidents have no owner yet and need acknowledgment.")
    if figures["escalated_alerts"]:
        parts.append(f"{figures['escalated_alerts']} alerts are escalated and await action.")
    if not parts:
        parts.append("No open critical or high incident is without an owner.")
    return " ".join(parts)


def html_page(figures: dict, classification: str, generated_at: datetime, viewer_nation: str) -> str:
    """The same report as a print-friendly HTML page (the banner repeats on every printed page)."""
    esc = html.escape
    body = []
    for kind, content in _blocks(figures, generated_at, viewer_nation):
        if kind == "table":
            header, rows = content
            body.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
                        + "</table>")
        else:
            body.append(f"<{kind}>{esc(str(content))}</{kind}>")
    banner = esc(classification)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SITREP</title>
<style>body{{font-family:sans-serif;margin:2.5em 2em}} .banner{{text-align:center;font-weight:bold;
background:#007a33;color:#fff;padding:2px}} table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}
@media print {{ .banner{{position:fixed;left:0;right:0}} .top{{top:0}} .bottom{{bottom:0}} }}</style></head>
<body><div class="banner top">{banner}</div>
{chr(10).join(body)}
<div class="banner bottom">{banner}</div></body></html>"""


def incidents_csv(alerts: list[StoredAlert]) -> str:
    """The incidents as CSV (one row each; the columns of ``CSV_COLUMNS``)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for stored in alerts:
        alert = stored.alert
        writer.writerow({
            "id": stored.id, "title": alert.title, "severity": alert.severity.value, "type": alert.type.value,
            "status": stored.status.value, "country": stored.placement.country or "",
            "region": stored.region_name, "reported_at": alert.reported_at.isoformat(),
            "received_at": stored.received_at.isoformat(), "exercise": "EXERCISE" if alert.exercise else "",
            "source": alert.source, "lat": f"{stored.lat:.6f}" if stored.located else "",
            "lon": f"{stored.lon:.6f}" if stored.located else "",
        })
    return out.getvalue()


def incidents_geojson(alerts: list[StoredAlert], assets: list[Asset] = ()) -> dict:
    """Incidents and response assets in one FeatureCollection."""
    return feature_collection(alerts, assets)

