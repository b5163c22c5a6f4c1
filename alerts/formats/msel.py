"""A Master Scenario Events List (MSEL) from CSV or XLSX bytes: the injects of an exercise, all validated.

Columns (a header row, any order, case-insensitive; HSEEP's MSEL fields plus what builds the alert):

| column            | required | meaning                                                                        |
|-------------------|:--------:|--------------------------------------------------------------------------------|
| `inject`          | yes      | the inject number (unique, >= 1)                                               |
| `offset`          | yes      | `H:MM:SS` after STARTEX (hours may exceed 24); in XLSX also a time/duration cell |
| `from`            |          | the cell or nation the inject simulates (default `EXCON`)                      |
| `to`              | yes      | nations it goes to, ISO 3166 alpha-2, `;`-separated (the alert's REL TO)       |
| `method`          |          | delivery method as planned (e.g. `CAP`, `phone`, `TAK`)                        |
| `type`, `severity`, `title`, `description` | type, severity, title | the alert (our schema's values)          |
| `lat`, `lon`      | or area  | where (WGS 84 degrees)                                                         |
| `area`            | or lat/lon | a GeoJSON Polygon or MultiPolygon (JSON text)                                               |
| `expected_action` |          | `alerts.core.expected_actions` grammar                                         |
| `objective`, `notes` |       | the exercise objective it tests; controller notes                              |
| `backup_for`      |          | the inject this one backs up (fires when that one's expected action is missed) |
| `payload_file`    |          | a CAP/CoT/JSON message file to send instead of building one                    |

Every row is checked before anything is returned: ``MselError`` lists every problem with its spreadsheet row
number (the header is row 1) and column. XLSX is read with openpyxl (which parses through defusedxml when it
is installed, as it is here); only the first worksheet is read.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from alerts.core.exercises import MAX_INJECTS, Inject
from alerts.core.refusals import N_, Refused

#: The largest MSEL file taken (bytes).
MAX_MSEL_BYTES = 20 * 1024 * 1024
COLUMNS = ("inject", "offset", "from", "to", "method", "type", "severity", "title", "description", "lat", "lon",
           "area", "expected_action", "objective", "notes", "backup_for", "payload_file")
REQUIRED = ("inject", "offset", "to")
#: Column name -> ``Inject`` field, where they differ.
_FIELD = {"inject": "number", "from": "sender", "payload_file": "payload"}
_COLUMN = {v: k for k, v in _FIELD.items()}
_OFFSET = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Problem:
    """One problem of a MSEL: spreadsheet ``row`` (1 is the header; 0 for the file as a whole), ``column``
    (a column name, or "" for the row as a whole) and what is wrong."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        return f"{where}{', column ' + self.column if self.column else ''}: {self.message}"


class MselError(Refused):
    """A MSEL that cannot be loaded; ``problems`` names each (row, column, message), in row order (the
    first 20 in the message, a ``Refusal``; the problems themselves are shown as they are)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.row, p.column))
        shown = "\n".join(map(str, self.problems[:20]))
        if len(self.problems) > 20:
            super().__init__(N_("the MSEL has problems:\n%(problems)s\n... and %(more)s more"),
                             {"problems": shown, "more": len(self.problems) - 20})
        else:
            super().__init__(N_("the MSEL has problems:\n%(problems)s"), {"problems": shown})


def read_msel(data: bytes, payloads: Callable[[str], str] | None = None) -> list[Inject]:
    """The injects of a MSEL file, in row order (``read_msel_rows`` without the row numbers)."""
    return [inject for _, inject in read_msel_rows(data, payloads)]


def read_msel_rows(data: bytes, payloads: Callable[[str], str] | None = None,
                   checks: Callable[[list[tuple[int, Inject]]], list[Problem]] | None = None
                   ) -> list[tuple[int, Inject]]:
    """``(spreadsheet row, inject)`` of a MSEL file (``data``: CSV in UTF-8, with or without BOM, or XLSX, told by its bytes).

    ``payloads(name)`` returns the text of a ``payload_file`` (the caller decides where files are, e.g. beside
    the MSEL); it raises ``OSError`` or ``ValueError`` for one that cannot be read. Without it, a row naming a
    payload file is a problem. ``checks(rows)`` adds the caller's own problems of the rows that are valid on
    their own (e.g. the deployment's, ``alerts.actions.msel_checks``), so every problem comes in one pass.
    Raises ``MselError`` naming every problem by row and column.
    """
    if len(data) > MAX_MSEL_BYTES:
        raise MselError([Problem(0, "", f"the file is {len(data)} bytes; at most {MAX_MSEL_BYTES} are taken")])
    rows = _xlsx_rows(data) if data.startswith(_XLSX_MAGIC) else _csv_rows(data)
    header = next(rows, None)
    if header is None:
        raise MselError([Problem(0, "", "the file is empty; the first row names the columns")])
    names = [str(h or "").strip().lower() for h in header]
    problems = [Problem(1, n, "unknown column (known: " + ", ".join(COLUMNS) + ")") for n in names
                if n and n not in COLUMNS]
    problems += [Problem(1, n, "the column is missing") for n in REQUIRED if n not in names]
    problems += [Problem(1, n, "the column appears twice") for n in set(names) if n and names.count(n) > 1]
    if problems:
        raise MselError(problems)
    injects: list[tuple[int, Inject]] = []
    numbered: list[tuple[int, int, int | None, bool]] = []  # (row, inject, backup_for, expected?) as written
    for number, values in enumerate(rows, start=2):
        if number - 1 > MAX_INJECTS:
            problems.append(Problem(number, "", f"a MSEL holds at most {MAX_INJECTS} injects"))
            break
        cells = {n: v for n, v in zip(names, values, strict=False) if n and not _blank(v)}
        if not cells:
            continue
        numbered.append((number, _whole(cells.get("inject")), _whole(cells.get("backup_for")),
                         "expected_action" in cells))
        inject = _inject(number, cells, payloads, problems)
        if inject is not None:
            injects.append((number, inject))
    problems += _cross_checks(numbered)
    if checks is not None and injects:
        problems += checks(injects)
    if problems:
        raise MselError(problems)
    if not injects:
        raise MselError([Problem(0, "", "the MSEL has no injects")])
    return injects


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MselError([Problem(0, "", f"a CSV MSEL must be UTF-8 ({error.reason} at byte {error.start})")]) from None
    return iter(csv.reader(io.StringIO(text)))


class _Formula(str):
    """An XLSX cell holding a formula with no saved (cached) value: a problem of its row and column."""


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    import openpyxl  # only when an XLSX comes

    def sheet_rows(values: bool) -> list[tuple]:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=values)
        return list(book.worksheets[0].iter_rows(max_row=MAX_INJECTS + 2, max_col=2 * len(COLUMNS),
                                                 values_only=True))

    try:  # read at most the rows and columns a MSEL may hold: a small file can unpack to a huge sheet
        rows = sheet_rows(values=True)
        if any(v is None for row in rows for v in row):  # a formula never calculated reads as empty
            formulas = sheet_rows(values=False)
            rows = [tuple(_Formula(f) if v is None and isinstance(f, str) and f.startswith("=") else v
                          for v, f in zip(row, frow, strict=False)) for row, frow in zip(rows, formulas, strict=False)]
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise MselError([Problem(0, "", f"not a readable XLSX workbook ({type(error).__name__}: {error})")]) from None
    return iter(rows)


def _offset(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, time):
        return timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    if isinstance(value, datetime):  # a ValueError: it becomes the cell's problem
        raise ValueError(  # noqa: TRY004
            "is a date and time; write the offset from STARTEX as H:MM:SS")
    found = _OFFSET.match(str(value).strip())
    if found is None:
        raise ValueError(f"{value!r} is not H:MM:SS (e.g. 0:05:00, 26:30:00)")
    hours, minutes, seconds = map(int, found.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _whole(value: Any) -> int | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _inject(row: int, cells: dict[str, Any], payloads: Callable[[str], str] | None,
            problems: list[Problem]) -> Inject | None:
    """The row's inject, or None after adding every problem of the row (cells that cannot be read, then
    every field the model refuses) to ``problems``."""
    fields: dict[str, Any] = {}
    unreadable: set[str] = set()
    for column, value in cells.items():
        text = value.strip() if isinstance(value, str) else value
        try:
            if isinstance(value, _Formula):
                raise ValueError(f"the formula {value[:60]} has no saved value: formulas must be saved as values "
                                 "(calculate and save the workbook in a spreadsheet program, or paste values)")
            if column == "offset":
                fields["offset"] = _offset(value)
            elif column == "to":
                fields["to"] = [n for n in re.split(r"[;,\s]+", str(text)) if n]
            elif column == "area":
                fields["area"] = json.loads(text) if isinstance(text, str) else text
                if not isinstance(fields["area"], dict):
                    raise ValueError("is not a GeoJSON Polygon or MultiPolygon object")
            elif column == "payload_file":
                if payloads is None:
                    raise ValueError("payload files are read only when the MSEL is loaded from a file")
                fields["payload"] = payloads(str(text))
            elif column in ("inject", "backup_for") and isinstance(text, float) and text.is_integer():
                fields[_FIELD.get(column, column)] = int(text)
            else:
                fields[_FIELD.get(column, column)] = text
        except (OSError, ValueError) as error:
            problems.append(Problem(row, column, str(error)))
            unreadable.add(column)
            fields.pop(_FIELD.get(column, column), None)
    try:
        inject = Inject.model_validate(fields)
    except ValidationError as error:
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else ""
            column = _COLUMN.get(field, field)
            if column not in unreadable:  # said already
                problems.append(Problem(row, column, item["msg"].removeprefix("Value error, ")))
        return None
    return None if unreadable else inject


def _cross_checks(numbered: list[tuple[int, int | None, int | None, bool]]) -> list[Problem]:
    """Across rows (as written): inject numbers that repeat; backups of an inject the MSEL does not hold, of
    one with no ``expected_action`` (it could never be missed, so the backup never fires), or in a circle."""
    problems, first, expects, backs = [], {}, {}, {}
    for row, number, backup_for, expected in numbered:
        if number is None:
            continue
        if number in first:
            problems.append(Problem(row, "inject", f"inject {number} is also in row {first[number]}"))
        first.setdefault(number, row)
        expects.setdefault(number, expected)
        backs.setdefault(number, backup_for)
    for row, number, backup_for, _ in numbered:
        if backup_for is None or backup_for == number:  # backing up itself: the row's own problem
            continue
        if backup_for not in first:
            problems.append(Problem(row, "backup_for", f"inject {backup_for} is not in the MSEL"))
        elif not expects[backup_for]:
            problems.append(Problem(row, "backup_for", f"inject {backup_for} has no expected_action, so it can "
                                                       "never be missed and this backup would never fire"))
        seen, current = {number}, backup_for
        while current in backs and current is not None:
            if current in seen:
                problems.append(Problem(row, "backup_for", f"backups go round in a circle (inject {number} backs "
                                                           f"up {backup_for}, which is backed up, in turn, by it)"))
                break
            seen.add(current)
            current = backs[current]
    return problems
