"""The after-action report as Markdown or HTML (the report dict of ``alerts.actions.aar``).

Outline after HSEEP's AAR/IP template: marking banner, 1 Exercise overview, 2 Objectives (rating and
evidence), 3 Response times (per inject and nation, then median / 90th percentile per nation),
4 Strengths, 5 Areas for improvement, 6 Improvement plan; the marking again at the end. An incident report
has the overview, the times per alert and the summary. Times are shown in seconds (``-``: not done).

Safe by construction (``alerts.formats.escape``): every value from the data is escaped (Markdown: literal
one-line text; HTML: ``markupsafe``); the HTML page has no script and no inline style; in the XLSX workbook
(openpyxl, one sheet ``AAR``, the same blocks one under another) every text cell is stored as text, never as a
formula, whatever it starts with.
"""
from __future__ import annotations

from markupsafe import Markup

from alerts.core.aar import MEASURES, RATING_MEANING
from alerts.formats.escape import html_text, markdown_marking, markdown_text

FORMATS = ("md", "html", "json", "xlsx")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def _raw(value) -> int | str:
    """A time in whole seconds (a number, for the workbook), or ``-`` when not done."""
    return "-" if value is None else round(value)


def blocks(report: dict) -> list[tuple]:
    """The report as ``("h1"|"h2"|"p", text)`` and ``("table", header, rows)`` blocks, in order: plain values,
    not yet escaped (each renderer escapes for its format; a page renders them as text nodes)."""
    measures = [name for name, _ in MEASURES]
    blocks: list[tuple] = [("p", report["marking"])]
    if "exercise" in report:
        blocks += [("h1", f"After-action report: {report['name']} (EXERCISE)"),
                   ("p", f"Exercise {report['exercise']}, {report['state']}; STARTEX {report['startex'] or '-'}, "
                         f"ENDEX {report['endex'] or '-'}; report at {report['at']}.")]
        blocks.append(("h2", "Objectives"))
        blocks.append(("table", ["#", "objective", "rating", "evidence (injects: met / missed / pending)"],
                       [[o["number"], o["text"],
                         f"{o['rating']['rating']} ({RATING_MEANING[o['rating']['rating']]})" if o["rating"] else "-",
                         f"{', '.join(map(str, o['evidence']['injects'])) or '-'}: {o['evidence']['met']} / "
                         f"{o['evidence']['missed']} / {o['evidence']['pending']}"] for o in report["objectives"]]))
        blocks.append(("h2", "Response per inject (seconds from firing)"))
        blocks.append(("table", ["inject", "title", "nation", *measures, "expected action"],
                       [[i["inject"], i["title"], nation, *(_raw(t[m]) for m in measures), t["expected"] or "-"]
                        for i in report["injects"] for nation, t in sorted(i["nations"].items())]))
    else:
        blocks += [("h1", "After-action report: incident window"),
                   ("p", f"From {report['since']} to {report['until']}; report at {report['at']}; exercise alerts "
                         + ("included." if report.get("include_exercise")
                            else f"left out ({report.get('exercise_alerts', 0)})."))]
        blocks.append(("h2", "Response per alert (seconds from arrival)"))
        blocks.append(("table", ["alert", "title", "nation", *measures],
                       [[a["alert_id"], a["title"], nation, *(_raw(t[m]) for m in measures)]
                        for a in report["alerts"] for nation, t in sorted(a["nations"].items())]))
    blocks.append(("h2", "Per nation: median / 90th percentile (seconds)"))
    blocks.append(("table", ["nation", *measures],
                   [[nation, *(f"{_seconds(s[m]['median'])} / {_seconds(s[m]['p90'])} (n={s[m]['n']})"
                               for m in measures)] for nation, s in report["summary"].items()]))
    if "exercise" in report:
        for key, title in (("strengths", "Strengths"), ("areas_for_improvement", "Areas for improvement")):
            blocks.append(("h2", title))
            blocks.append(("table", ["inject", "rating", "observation", "by"],
                           [[o.get("inject") or "-", o.get("rating") or "-", o["text"], o["by"]]
                            for o in report[key]]))
        blocks.append(("h2", "Improvement plan"))
        blocks.append(("table", ["area", "corrective action", "owner", "due", "status"],
                       [[i["area"], i["action"], i["owner"], i["due"], i["status"]] for i in report["improvements"]]))
    blocks.append(("p", report["marking"]))
    return blocks


def markdown(report: dict) -> str:
    """The report as Markdown (every value escaped)."""
    out = []
    for block in blocks(report):
        kind = block[0]
        if kind == "table":
            _, header, rows = block
            out.append("| " + " | ".join(markdown_text(h) for h in header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(markdown_text(c) for c in row) + " |" for row in rows]
            if not rows:
                out.append("| " + " | ".join("-" for _ in header) + " |")
        else:
            prefix = {"h1": "# ", "h2": "## ", "p": ""}[kind]
            marking = kind == "p" and block[1] == report["marking"]  # the banner: one readable line
            out.append(prefix + (markdown_marking if marking else markdown_text)(block[1]))
        out.append("")
    return "\n".join(out)


def html(report: dict) -> str:
    """The report as a standalone HTML page (every value escaped; no script, no inline style)."""
    body = []
    for block in blocks(report):
        if block[0] == "table":
            _, header, rows = block
            head = Markup("").join(Markup("<th>{}</th>").format(html_text(h)) for h in header)
            trs = Markup("").join(Markup("<tr>{}</tr>").format(
                Markup("").join(Markup("<td>{}</td>").format(html_text(c)) for c in row)) for row in rows)
            body.append(Markup("<table><tr>{}</tr>{}</table>").format(head, trs))
        else:
            body.append(Markup("<{0}>{1}</{0}>").format(Markup(block[0]), html_text(block[1])))
    return str(Markup('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AAR</title></head>'
                      '<body class="aar">{}</body></html>').format(Markup("\n").join(body)))


def xlsx(report: dict) -> bytes:
    """The report as an XLSX workbook (module docstring)."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "AAR"
    bold = Font(bold=True)

    def put(values: list, strong: bool = False) -> None:
        sheet.append([None] * len(values))
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            cell.value = value if isinstance(value, (int, float)) else "" if value is None else str(value)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
            if strong:
                cell.font = bold

    for block in blocks(report):
        if block[0] == "table":
            put(block[1], strong=True)
            for row in block[2]:
                put(row)
        else:
            put([block[1]], strong=block[0] != "p")
        sheet.append([])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

