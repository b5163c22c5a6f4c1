"""Text from a message made inert in an export: a spreadsheet cell, Markdown, HTML.

Every renderer of an export passes what came from a message (titles, places,
sources, caveats, user names) through one of these, so a hostile message can
neither run a formula in the reader's spreadsheet nor add markup, links,
images or table cells to a report.

- ``csv_cell``: OWASP "CSV Injection"
  (https://owasp.org/www-community/attacks/CSV_Injection) and ASVS 5.0
  requirement 1.2.10: a cell whose first character a spreadsheet takes as the
  start of a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return, line
  feed, NUL, and their full-width forms) is prefixed with a single quote,
  which spreadsheets read as "text" and do not show. The first character is
  looked for after any leading white space, since spreadsheets trim it before
  they evaluate (`` =1+1``). A plain number (``-12.5``) is left as it is.
  Separators, quotes and line breaks inside a cell are the CSV writer's job:
  every cell is quoted (``csv.QUOTE_ALL``, as OWASP advises). A spreadsheet
  whose locale splits on another separator (``;`` in much of the region) ends
  a quoted cell there anyway, so a formula start after any such separator gets
  its ``'`` too (``Road closed;'=1+1``). ``defusedcsv`` was not used: it misses tab,
  carriage return and leading white space.
- ``markdown_text``: one line of literal text for CommonMark / GitHub
  Flavored Markdown (https://spec.commonmark.org/0.31.2/#backslash-escapes):
  ``<``, ``>`` and ``&`` become character references (so no renderer sees an
  HTML tag or entity), and every ASCII punctuation character with a meaning
  inside a line (``MARKDOWN_SPECIAL``: links and images, emphasis, code,
  strike-through, table pipes, and the math, highlight, superscript and
  attribute syntax of common extensions) is backslash-escaped; every line
  break becomes a space, so a value never starts a line and can open no
  block, heading, list item or table row. Punctuation that matters only at
  the start of a line (``-``, ``+``, ``.``, ``:``, ``/``) is kept, so
  markings such as ``SECRET//REL TO RS TLP:AMBER+STRICT`` read as they are.
  A URL, a ``www.`` address or an e-mail address, which GFM and linkify
  renderers turn into links by themselves (after escapes are resolved), is
  put in a code span, where nothing is linked: GFM's autolink literals by
  pattern, and everything linkify-it-py (the linkifier markdown-it uses)
  finds, fuzzy links without a scheme (``evil-portal.com/login``), e-mail
  addresses and IP addresses included; the text left between code spans is
  looked at again until it holds no link.
- ``markdown_marking``: a classification marking line (banner, a row's
  marking) for Markdown: as ``markdown_text`` when nothing in it could be
  linked, else the whole line as one code span, so a caveat such as
  ``WWW.EVIL.EXAMPLE`` links nothing and the marking stays one readable line.
- ``html_text``: ``markupsafe.escape`` (``& < > " '``), for text in an HTML
  element or a quoted attribute; build pages with ``markupsafe.Markup``
  templates so every inserted value is escaped by construction.
"""
from __future__ import annotations

import re

from linkify_it import LinkifyIt
from markupsafe import Markup, escape

#: First characters a spreadsheet takes as the start of a formula (OWASP, ASVS 1.2.10), with the
#: full-width forms of = + - @ that some spreadsheets normalise.
FORMULA_STARTS = frozenset("=+-@\t\r\n\0\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
#: Line breaks of Unicode and of CommonMark (LF, CR, VT, FF, NEL, LS, PS) and tabs.
_BREAKS = re.compile("[\n\r\t\v\f\x85\u2028\u2029]")
#: ASCII punctuation backslash-escaped in Markdown text (CommonMark 0.31 section 2.4 allows any).
MARKDOWN_SPECIAL = "\\`*_{}[]()!|~#=^$"
_MARKDOWN = {c: "\\" + c for c in MARKDOWN_SPECIAL} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN)


#: A separator some locale's spreadsheet splits CSV on, then what would start a formula in the next cell.
_SEPARATED_FORMULA = re.compile("(?<=.)([,;|]|\t)([ \u00a0\u3000]*)(?=[=+\\-@\uff1d\uff0b\uff0d\uff20])")


def csv_cell(value: object) -> str:
    """``value`` as text a spreadsheet shows and never evaluates: ``'`` prefixed when its first character
    after leading white space starts a formula; a plain decimal number and "" are kept as they are. The same
    ``'`` goes after every separator a locale may split on (``,``, ``;``, ``|``, tab) that is followed by a
    formula start, since a spreadsheet that splits there ends the quoted cell and starts a new one
    (OWASP: separator injection)."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" \u00a0\u3000")
    text = _SEPARATED_FORMULA.sub(r"\1\2'", text)
    if stripped and stripped[0] in FORMULA_STARTS and not _NUMBER.match(stripped):
        return "'" + text
    return text


#: What a Markdown renderer could turn into a link by itself (GFM autolink literals, linkify): a URL with a
#: scheme, a ``www.`` address, an e-mail address; each is put in a code span, where nothing is linked.
_LINKABLE = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+|"
                       r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _code_span(text: str) -> str:
    run = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (run + 1)
    return f"{fence} {text} {fence}" if run else f"{fence}{text}{fence}"


#: The linkifier of markdown-it (``MarkdownIt(...).enable("linkify")``), with fuzzy IP addresses as well.
_LINKIFY = LinkifyIt(options={"fuzzy_link": True, "fuzzy_email": True, "fuzzy_ip": True})


def _link_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``text`` a GFM or linkify renderer could link, merged, in order."""
    spans = [(m.start(), m.end()) for m in _LINKABLE.finditer(text)]
    return _merged(spans + [(m.index, m.last_index) for m in (_LINKIFY.match(text) or [])])


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, those that overlap or touch made one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _linked(text: str) -> list[tuple[int, int]]:
    """``_link_spans``, then those of the text left between them (a linkifier sees those pieces apart once the
    spans are code), until none is left."""
    spans = _link_spans(text)
    for _ in range(8):  # each round only adds spans inside what was plain text; bounded all the same
        gaps = [(end, start) for (_, end), (start, _) in zip([(0, 0), *spans], [*spans, (len(text), len(text))],
                                                            strict=True)]
        more = [(a + s, a + e) for a, b in gaps if a < b for s, e in _link_spans(text[a:b])]
        if not more:
            break
        spans = _merged(spans + more)
    return spans


def markdown_text(value: object) -> str:
    """``value`` as literal inline Markdown text on one line (see the module docstring)."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    pieces, last = [], 0
    for start, end in _linked(text):
        pieces.append(text[last:start].translate(_MARKDOWN_TABLE))
        pieces.append(_code_span(text[start:end].replace("|", "\\|")))  # GFM splits table cells even there
        last = end
    pieces.append(text[last:].translate(_MARKDOWN_TABLE))
    return "".join(pieces)


def markdown_marking(value: object) -> str:
    """A marking line as literal Markdown on one line: ``markdown_text``, or the whole line as one code span
    when anything in it could be linked (see the module docstring)."""
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    if _linked(text):
        return _code_span(text.replace("|", "\\|"))
    return markdown_text(text)


def html_text(value: object) -> Markup:
    """``value`` escaped for HTML text or a quoted attribute value (``markupsafe.escape``)."""
    return escape("" if value is None else str(value))
