"""The after-action report as Markdown or HTML (the report dict of ``alerts.actions.aar``).

Outline after HSEEP's AAR/IP template: marking banner, 1 Exercise overview, 2 Objectives (rating and
evidence), 3 Response times (per inject and nation, then median / 90th percentile per nation),
4 Strengths, 5 Areas for improvement, 6 Improvement plan; the marking again at the end. An incident report
has the overview, the times per alert and the summary. Times are shown in seconds (``-``: not done).

Written in the current language (``alerts.i18n.current``: the request's, the CLI's English): headings,
sentences, column headers and the words for states, ratings, outcomes and measures; names, titles, texts,
nations, ids and the marking as they are.

Safe by construction (``alerts.formats.escape``): every value from the data is escaped (Markdown: literal
one-line text; HTML: ``markupsafe``); the HTML page has no script and no inline style; in the XLSX workbook
(openpyxl, one sheet ``AAR``, the same blocks one under another) every text cell is stored as text, never as a
formula, whatever it starts with.
"""
from __future__ import annotations

from markupsafe import Markup

from alerts.core.aar import MEASURES, RATING_MEANING
from alerts.formats.escape import html_text, markdown_marking, markdown_text
from alerts.i18n import N_, current, number
from alerts.i18n import gettext as _

FORMATS = ("md", "html", "json", "xlsx")
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The words for the coded values the report shows (a code not listed: as itself). ``RATINGS`` are the HSEEP
#: meanings of ``alerts.core.aar.RATING_MEANING``, the same English.
MEASURE_WORDS = {"acknowledge": N_("acknowledge"), "first_step": N_("first step"), "assign": N_("assign"),
                 "resolve": N_("resolve")}
RATINGS = {"P": N_("Performed without challenges"), "S": N_("Performed with some challenges"),
           "M": N_("Performed with major challenges"), "U": N_("Unable to be performed")}
OUTCOMES = {"met": N_("met"), "missed": N_("missed"), "pending": N_("pending"), "ended": N_("ended")}
EXERCISE_STATES = {"planned": N_("planned"), "running": N_("running"), "paused": N_("paused"), "ended": N_("ended")}
IMPROVEMENT_STATUSES = {"open": N_("open"), "in_progress": N_("in progress"), "done": N_("done")}


def _word(table: dict[str, str], code) -> str:
    return _(table[code]) if code in table else code


def rating_meaning(rating: str) -> str:
    """An HSEEP rating's meaning (``S`` -> "Performed with some challenges") in the current language."""
    return _(RATINGS[rating]) if rating in RATINGS else RATING_MEANING.get(rating, rating)


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def _raw(value) -> int | str:
    """A time in whole seconds (a number, for the workbook), or ``-`` when not done."""
    return "-" if value is None else round(value)


def blocks(report: dict) -> list[tuple]:
    """The report as ``("h1"|"h2"|"p", text)`` and ``("table", header, rows, words)`` blocks, in order: plain
    values, not yet escaped (each renderer escapes for its format; a page renders them as text nodes), in the
    current language; a table's ``words`` are the indexes of its columns in words of the interface (the
    others hold content: names, titles, texts, nations, ids, numbers)."""
    measures = [name for name, _m in MEASURES]
    measure_words = [_word(MEASURE_WORDS, m) for m in measures]
    blocks: list[tuple] = [("p", report["marking"])]
    if "exercise" in report:
        blocks += [("h1", _("After-action report: %(name)s (EXERCISE)") % {"name": report["name"]}),
                   ("p", _("Exercise %(id)s, %(state)s; STARTEX %(startex)s, ENDEX %(endex)s; report at %(at)s.")
                    % {"id": report["exercise"], "state": _word(EXERCISE_STATES, report["state"]),
                       "startex": report["startex"] or "-", "endex": report["endex"] or "-", "at": report["at"]})]
        blocks.append(("h2", _("Objectives")))
        blocks.append(("table", ["#", _("objective"), _("rating"), _("evidence (injects: met / missed / pending)")],
                       [[o["number"], o["text"],
                         f"{o['rating']['rating']} ({rating_meaning(o['rating']['rating'])})" if o["rating"] else "-",
                         f"{', '.join(map(str, o['evidence']['injects'])) or '-'}: {o['evidence']['met']} / "
                         f"{o['evidence']['missed']} / {o['evidence']['pending']}"] for o in report["objectives"]],
                       {2}))
        blocks.append(("h2", _("Response per inject (seconds from firing)")))
        blocks.append(("table", [_("inject"), _("title"), _("nation"), *measure_words, _("expected action")],
                       [[i["inject"], i["title"], nation, *(_raw(t[m]) for m in measures),
                         _word(OUTCOMES, t["expected"]) if t["expected"] else "-"]
                        for i in report["injects"] for nation, t in sorted(i["nations"].items())],
                       {3 + len(measures)}))
    else:
        sentence = (_("From %(since)s to %(until)s; report at %(at)s; exercise alerts included.")
                    if report.get("include_exercise") else
                    _("From %(since)s to %(until)s; report at %(at)s; exercise alerts left out (%(n)s)."))
        blocks += [("h1", _("After-action report: incident window")),
                   ("p", sentence % {"since": report["since"], "until": report["until"], "at": report["at"],
                                     "n": number(report.get("exercise_alerts", 0))})]
        blocks.append(("h2", _("Response per alert (seconds from arrival)")))
        blocks.append(("table", [_("alert"), _("title"), _("nation"), *measure_words],
                       [[a["alert_id"], a["title"], nation, *(_raw(t[m]) for m in measures)]
                        for a in report["alerts"] for nation, t in sorted(a["nations"].items())], set()))
    blocks.append(("h2", _("Per nation: median / 90th percentile (seconds)")))
    blocks.append(("table", [_("nation"), *measure_words],
                   [[nation, *(f"{_seconds(s[m]['median'])} / {_seconds(s[m]['p90'])} (n={s[m]['n']})"
                               for m in measures)] for nation, s in report["summary"].items()], set()))
    if "exercise" in report:
        for key, title in (("strengths", _("Strengths")), ("areas_for_improvement", _("Areas for improvement"))):
            blocks.append(("h2", title))
            blocks.append(("table", [_("inject"), _("rating"), _("observation"), _("by")],
                           [[o.get("inject") or "-", o.get("rating") or "-", o["text"], o["by"]]
                            for o in report[key]], set()))
        blocks.append(("h2", _("Improvement plan")))
        blocks.append(("table", [_("area"), _("corrective action"), _("owner"), _("due"), _("status")],
                       [[i["area"], i["action"], i["owner"], i["due"], _word(IMPROVEMENT_STATUSES, i["status"])]
                        for i in report["improvements"]], {4}))
    blocks.append(("p", report["marking"]))
    return blocks


def markdown(report: dict) -> str:
    """The report as Markdown (every value escaped)."""
    out = []
    for block in blocks(report):
        kind = block[0]
        if kind == "table":
            header, rows = block[1], block[2]
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
            header, rows = block[1], block[2]
            head = Markup("").join(Markup("<th>{}</th>").format(html_text(h)) for h in header)
            trs = Markup("").join(Markup("<tr>{}</tr>").format(
                Markup("").join(Markup("<td>{}</td>").format(html_text(c)) for c in row)) for row in rows)
            body.append(Markup("<table><tr>{}</tr>{}</table>").format(head, trs))
        else:
            body.append(Markup("<{0}>{1}</{0}>").format(Markup(block[0]), html_text(block[1])))
    return str(Markup('<!doctype html><html lang="{}"><head><meta charset="utf-8"><title>AAR</title></head>'
                      '<body class="aar">{}</body></html>').format(current(), Markup("\n").join(body)))


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

