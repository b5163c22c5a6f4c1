"""SITREP exports: a narrative report (Markdown or print-ready HTML), incidents as CSV, incidents as GeoJSON.

The narrative follows the usual SITREP outline, mapped to OASIS EDXL-SitRep 1.0
(see docs/sitrep.md): 1 Situation, 2 Actions taken, 3 Resources committed,
4 Outlook. Exercise incidents are marked EXERCISE.

Markings (``alerts.core.markings``), in the form each format expects:

- Markdown and HTML: the marking of the whole report (``Marking.line``,
  e.g. ``CONFIDENTIAL//FOUO//REL TO BA, HR TLP:AMBER``) as a banner first and
  last (HTML: coloured by level, repeated on every printed page), and each
  incident of the open-incidents table with its own marking;
- CSV: a first row holding the marking line of the file's incidents alone,
  then the header; every incident row has ``classification``, ``caveats``
  (``;``-separated), ``tlp`` and ``releasable_to`` (``;``-separated alpha-2
  codes, or ``ALL``);
- GeoJSON: the top-level member ``marking`` and per-feature properties
  (``alerts.formats.geojson``).

Content without alerts carries the lowest level.

Language: the narrative (Markdown, HTML) is written in the current language (``alerts.i18n.current``: the
requesting user's), headings, sentences, column headers and the words for severities and statuses
(``alerts.i18n.terms``) and EXERCISE; titles (a CAP alert's own headline in the language, where it carries
one), places, owners, nations and markings are shown as they are, and the terms SITREP and UTC are kept. CSV and GeoJSON are data: their column names, property keys and coded
values stay English (``CSV_COLUMNS``), whatever the language.

Safe by construction (``alerts.formats.escape``): in Markdown every value
from the data (titles, places, owners, nations, markings) is escaped as
literal one-line text; the HTML page is built from ``markupsafe.Markup``
templates, so every value inserted is HTML-escaped, and its one inline style
is allowed by its hash in the page's own Content-Security-Policy (``html_csp``); every
CSV cell is neutralised against formula injection.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from markupsafe import Markup

from alerts.core.assets import Asset
from alerts.core.markings import Classifications, Marking, most_restrictive
from alerts.core.model import StoredAlert
from alerts.formats.escape import csv_cell, html_text, markdown_marking, markdown_text
from alerts.formats.geojson import feature_collection
from alerts.i18n import current, ngettext, number, terms, upper
from alerts.i18n import gettext as _
from alerts.i18n.content import headline

MARKING_COLUMNS = ["classification", "caveats", "tlp", "releasable_to"]
CSV_COLUMNS = ["id", "title", "severity", "type", "status", "country", "region", "reported_at", "received_at",
               "exercise", "exercise_id", "inject", "source", "lat", "lon", *MARKING_COLUMNS]
#: Banner colours (background, text) by classification rank, lowest first; the app's banner uses the same
#: (``assets/style.css``, ``.marking-level-N``). A level beyond the list takes the last colour.
LEVEL_COLOURS = [("#007a33", "#fff"), ("#502b85", "#fff"), ("#0033a0", "#fff"), ("#c8102e", "#fff"),
                 ("#ff8c00", "#000"), ("#fce83a", "#000")]
#: TLP 2.0 label colours (FIRST: coloured text on black).
TLP_COLOURS = {"CLEAR": "#fff", "GREEN": "#33ff00", "AMBER": "#ffc000", "AMBER+STRICT": "#ffc000", "RED": "#ff2b2b"}


def _reported(iso: str) -> str:
    """``2026-11-29T10:05:00+00:00`` -> ``2026-11-29 10:05Z`` (the report's one time format: UTC, 24-hour)."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _partial(figures: dict, quote: Callable[[object], str]) -> str:
    """The note a report whose period reaches back past what the server holds in memory carries."""
    if not figures.get("held_since"):
        return ""
    return " " + _("Alerts closed before %(time)s UTC are not included (the server holds closed alerts for "
                   "CRISIS_MEMORY_HORIZON after they close).") % {"time": quote(figures["held_since"][:16])}


def _minutes(seconds: float | None) -> str:
    return _("n/a") if seconds is None else _("%(minutes)s min") % {"minutes": number(seconds / 60, 1)}


def _blocks(figures: dict, generated_at: datetime, viewer_nation: str, markings: Mapping[str, Marking],
            quote: Callable[[object], str] = str, quote_marking: Callable[[object], str] | None = None
            ) -> list[tuple[str, object]]:
    """The report as blocks (``h1``, ``h2``, ``p``, ``li``, ``table``), rendered by both formats; every value
    from the data passes through ``quote`` (the format's escaping of literal text), a marking line through
    ``quote_marking`` (default ``quote``); the words are in the current language (module docstring)."""
    marking_text = quote_marking or quote
    window = figures["window"]
    severity = figures["open_by_severity"]
    ack, resolve, assets = figures["time_to_acknowledge"], figures["time_to_resolve"], figures["assets"]
    incidents = [
        [quote(_reported(item["reported_at"])), quote(upper(terms.severity(item["severity"]))),
         quote((upper(_("EXERCISE")) + " " if item["exercise"] else "") + item["title"]),
         quote(", ".join(p for p in (item["region"], item["country"]) if p)), quote(terms.status(item["status"])),
         quote(item["owner"] or "-"), marking_text(markings[item["id"]].line() if item["id"] in markings else "-")]
        for item in figures["open_critical_high"]
    ]
    n = number
    return [
        ("h1", f"SITREP {generated_at:%Y-%m-%d %H:%M} UTC"),
        ("p", _("Period %(since)s to %(until)s UTC; released to %(nation)s.") % {
            "since": quote(window["since"][:16]), "until": quote(window["until"][:16]),
            "nation": quote(viewer_nation)} + _partial(figures, quote)),
        ("h2", _("1. Situation")),
        ("p", ngettext("%(n)s open alert: %(critical)s critical, %(high)s high, %(medium)s medium, %(low)s low; "
                       "%(escalated)s escalated.",
                       "%(n)s open alerts: %(critical)s critical, %(high)s high, %(medium)s medium, %(low)s low; "
                       "%(escalated)s escalated.", figures["open_alerts"]) % {
            "n": n(figures["open_alerts"]), "critical": n(severity["critical"]), "high": n(severity["high"]),
            "medium": n(severity["medium"]), "low": n(severity["low"]), "escalated": n(figures["escalated_alerts"])}),
        ("table", ([_("Country"), _("Open")],
                   [[_("unplaced") if c == "unplaced" else quote(c), n(count)]
                    for c, count in figures["open_by_country"].items()])),
        ("p", _("Open critical and high incidents:")),
        ("table", ([_("Reported (UTC)"), _("Severity"), _("Incident"), _("Where"), _("Status"), _("Owner"),
                    _("Marking")], incidents)),
        ("h2", _("2. Actions taken")),
        ("p", ngettext("%(n)s alert acknowledged (median %(median)s, 90th percentile %(p90)s); %(resolved)s resolved "
                       "(median %(resolve_median)s, 90th percentile %(resolve_p90)s).",
                       "%(n)s alerts acknowledged (median %(median)s, 90th percentile %(p90)s); %(resolved)s resolved "
                       "(median %(resolve_median)s, 90th percentile %(resolve_p90)s).", ack["count"]) % {
            "n": n(ack["count"]), "median": _minutes(ack["median_s"]), "p90": _minutes(ack["p90_s"]),
            "resolved": n(resolve["count"]), "resolve_median": _minutes(resolve["median_s"]),
            "resolve_p90": _minutes(resolve["p90_s"])}),
        ("h2", _("3. Resources committed")),
        ("p", ngettext("%(n)s asset committed, %(ready)s ready.", "%(n)s assets committed, %(ready)s ready.",
                       assets["committed"]) % {"n": n(assets["committed"]), "ready": n(assets["ready"])}),
        *[("li", _("%(nation)s: %(committed)s committed, %(ready)s ready") % {
            "nation": quote(nation), "committed": n(c["committed"]), "ready": n(c["ready"])})
          for nation, c in assets["by_nation"].items()],
        ("h2", _("4. Outlook")),
        ("p", _outlook(figures)),
    ]


def markdown(figures: dict, marking: Marking, generated_at: datetime, viewer_nation: str,
             markings: Mapping[str, Marking] | None = None) -> str:
    """The SITREP as Markdown: ``marking`` (of the whole report) first and last, each open critical or
    high incident with its own marking from ``markings`` (alert id -> marking). Every value from the data is
    literal text (``alerts.formats.escape.markdown_text``): no HTML, link, image, table cell or line of its own."""
    banner = f"**{markdown_marking(marking.line())}**"
    lines = [banner, ""]
    for kind, content in _blocks(figures, generated_at, viewer_nation, markings or {}, markdown_text,
                                 markdown_marking):
        if kind == "h1":
            lines += [f"# {content}", ""]
        elif kind == "h2":
            lines += ["", f"## {content}", ""]
        elif kind == "table":
            header, rows = content
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
                      *["| " + " | ".join(row) + " |" for row in rows], ""]
        elif kind == "li":
            lines.append(f"- {content}")
        else:
            lines += [str(content), ""]
    lines += ["", banner, ""]
    return "\n".join(lines)


def _outlook(figures: dict) -> str:
    unowned = [i for i in figures["open_critical_high"] if not i["owner"]]
    parts = []
    if unowned:
        parts.append(ngettext("%(n)s critical or high incident has no owner yet and needs acknowledgment.",
                              "%(n)s critical or high incidents have no owner yet and need acknowledgment.",
                              len(unowned)) % {"n": number(len(unowned))})
    if figures["escalated_alerts"]:
        parts.append(ngettext("%(n)s alert is escalated and awaits action.",
                              "%(n)s alerts are escalated and await action.",
                              figures["escalated_alerts"]) % {"n": number(figures["escalated_alerts"])})
    if not parts:
        parts.append(_("No open critical or high incident is without an owner."))
    return " ".join(parts)


#: The HTML page's one inline style sheet; its colours are filled in per report (``_STYLE.format``).
_STYLE = """body{{font-family:sans-serif;margin:2.5em 2em}} .banner{{text-align:center;font-weight:bold;
background:{background};color:{colour};padding:2px;-webkit-print-color-adjust:exact;print-color-adjust:exact}}
.tlp{{background:#000;color:{tlp_colour};padding:0 4px}} table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #999;padding:2px 6px;text-align:left}}
@media print {{ .banner{{position:fixed;left:0;right:0}} .top{{top:0}} .bottom{{bottom:0}} }}"""


def html_style(marking: Marking, scheme: Classifications = Classifications()) -> str:
    """The inline style sheet of the HTML page for ``marking``: banner coloured by level, TLP label colour."""
    background, colour = LEVEL_COLOURS[min(scheme.rank(marking.classification), len(LEVEL_COLOURS) - 1)]
    tlp_colour = TLP_COLOURS[marking.tlp.value] if marking.tlp else "#fff"
    return _STYLE.format(background=background, colour=colour, tlp_colour=tlp_colour)


def html_page(figures: dict, marking: Marking, generated_at: datetime, viewer_nation: str,
              markings: Mapping[str, Marking] | None = None, scheme: Classifications = Classifications()) -> str:
    """The same report as a print-friendly HTML page: the banner (``marking``, coloured by its rank in
    ``scheme``, the TLP label in its FIRST colour) repeats on every printed page; incidents as in ``markdown``.
    Built from ``markupsafe.Markup`` templates: every value is HTML-escaped; serve it with ``html_csp(page)``."""
    body = []
    for kind, content in _blocks(figures, generated_at, viewer_nation, markings or {}):
        if kind == "table":
            header, rows = content
            cells = Markup("").join(Markup("<th>{}</th>").format(h) for h in header)
            trs = Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(c)
                                                                                for c in row)) for row in rows)
            body.append(Markup("<table><tr>{}</tr>{}</table>").format(cells, trs))
        else:
            body.append(Markup("<{0}>{1}</{0}>").format(Markup(kind), content))
    banner = html_text(marking.line().removesuffix(f" TLP:{marking.tlp.value}" if marking.tlp else ""))
    if marking.tlp is not None:
        banner += Markup(' <span class="tlp">TLP:{}</span>').format(marking.tlp.value)
    return str(Markup("""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>SITREP</title>
<style>{style}</style></head>
<body><div class="banner top">{banner}</div>
{body}
<div class="banner bottom">{banner}</div></body></html>""").format(
        lang=current(), style=Markup(html_style(marking, scheme)), banner=banner, body=Markup("\n").join(body)))


def html_csp(page: str) -> str:
    """The Content-Security-Policy to serve an HTML export (``html_page``, the AAR's page) with: nothing may load
    or run, the page's own ``<style>`` sheets alone apply (by their hashes; none: no style at all), and no other
    site may frame it (W3C CSP Level 3)."""
    styles = re.findall(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    sources = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
                       + "'" for style in styles) or "'none'"
    return f"default-src 'none'; style-src {sources}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def incidents_csv(alerts: list[StoredAlert], scheme: Classifications = Classifications()) -> str:
    """The incidents as CSV: a first row holding the marking line of these incidents (the most restrictive;
    none: the lowest level of ``scheme``), then the header (``CSV_COLUMNS``), then one row each. Every cell
    is neutralised against formula injection (``alerts.formats.escape.csv_cell``) and quoted as RFC 4180 needs."""
    out = io.StringIO()
    markings = [stored.routing.marking(scheme) for stored in alerts]
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)  # every cell quoted: no separator of any locale splits one
    writer.writerow([csv_cell(most_restrictive(markings, scheme).line())])
    writer.writerow(CSV_COLUMNS)
    for stored, marking in zip(alerts, markings):
        alert = stored.alert
        row = {
            "id": stored.id, "title": headline(alert), "severity": alert.severity.value, "type": alert.type.value,
            "status": stored.status.value, "country": stored.placement.country or "",
            "region": stored.region_name, "reported_at": alert.reported_at.isoformat(),
            "received_at": stored.received_at.isoformat(), "exercise": "EXERCISE" if alert.exercise else "",
            "exercise_id": alert.exercise_id or "", "inject": str(alert.inject or ""),
            "source": alert.source, "lat": f"{stored.lat:.6f}" if stored.located else "",
            "lon": f"{stored.lon:.6f}" if stored.located else "",
            "classification": marking.classification, "caveats": ";".join(marking.caveats),
            "tlp": marking.tlp.value if marking.tlp else "",
            "releasable_to": ";".join(marking.releasable_to) if marking.releasable_to is not None else "",
        }
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def incidents_geojson(alerts: list[StoredAlert], assets: list[Asset] = (),
                      scheme: Classifications = Classifications()) -> dict:
    """Incidents and response assets in one FeatureCollection, marked (``alerts.formats.geojson``)."""
    return feature_collection(alerts, assets, scheme)
