"""MSEL files (CSV and XLSX) read into injects; every problem named by row and column."""
from __future__ import annotations

import io
from datetime import time, timedelta

import openpyxl
import pytest

from alerts.formats.msel import MselError, read_msel

HEADER = "inject,offset,from,to,method,type,severity,title,description,lat,lon,expected_action,objective,backup_for"
ROWS = [
    ("1,0:05:00,SEISMOLOGY,RS;HR,CAP,natural_disaster,critical,M6.1 earthquake near Kraljevo,Shaking felt,43.72,20.69,"
    "acknowledge within 5m,OBJ-1 alerting,"),
    ("2,0:20:00,EXCON,RS,phone,hazmat,high,Chlorine release at the border,,44.9,19.5,"
    "assign cbrn_team within 20m and step 2 within 15m,OBJ-2 CBRN,"),
    "3,0:45:00,EXCON,RS,phone,hazmat,high,Second call about the chlorine release,,44.9,19.5,,OBJ-2 CBRN,2",
]


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\ufeff" + "\n".join([header, *rows]) + "\n").encode()


def test_msl001_a_csv_msel_reads_into_injects():
    injects = read_msel(csv_bytes(*ROWS))
    assert [i.number for i in injects] == [1, 2, 3]
    first = injects[0]
    assert (first.offset, first.sender, first.to, first.method, first.title) == (
        timedelta(minutes=5), "SEISMOLOGY", ("RS", "HR"), "CAP", "M6.1 earthquake near Kraljevo")
    assert injects[1].expected_action == "assign cbrn_team within 20m and step 2 within 15m"
    assert injects[2].backup_for == 2 and injects[2].expected_action is None


def test_msl002_an_xlsx_msel_reads_the_same_with_time_cells_and_numbers():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for row in ROWS:
        cells = row.split(",")
        cells[0], cells[9], cells[10] = int(cells[0]), float(cells[9]), float(cells[10])
        sheet.append(cells)
    sheet["B2"] = time(0, 5, 0)                  # a time cell
    sheet["B3"] = timedelta(minutes=20)           # a duration cell
    sheet["N4"] = 2                               # backup_for as a number
    data = io.BytesIO()
    book.save(data)
    assert read_msel(data.getvalue()) == read_msel(csv_bytes(*ROWS))


def test_msl003_every_problem_is_named_by_row_and_column_and_nothing_is_returned():
    bad = [
        ROWS[0],
        "1,5 minutes,EXCON,RS;QQ,phone,earthquake,high,,x,44,20,wave within 5m,,",
        "4,0:10:00,EXCON,RS,phone,hazmat,high,No place,,,,,,9",
    ]
    with pytest.raises(MselError) as caught:
        read_msel(csv_bytes(*bad))
    where = {(p.row, p.column) for p in caught.value.problems}
    assert {(3, "offset"), (3, "to"), (3, "type"), (3, "title"), (3, "expected_action"), (3, "inject"),
            (4, ""), (4, "backup_for")} <= where, caught.value.problems
    assert "row 3, column offset" in str(caught.value) and "H:MM:SS" in str(caught.value)


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    (csv_bytes(header="inject,offset,to,colour"), "column colour: unknown column"),
    (csv_bytes(header="inject,to,title"), "column offset: the column is missing"),
    (csv_bytes(header=HEADER), "no injects"),
    (b"inject,offset,to\n1,0:00:01,\xff\n", "UTF-8"),
    (b"PK\x03\x04 not really a workbook", "not a readable XLSX"),
])
def test_msl004_files_that_are_not_a_msel_are_refused_clearly(data, says):
    with pytest.raises(MselError, match=says):
        read_msel(data)


def test_msl005_payload_files_come_from_the_callers_reader():
    header = "inject,offset,to,type,severity,title,payload_file"
    data = csv_bytes("1,0:01:00,RS,other,low,From a file,cap-1.xml", "2,0:02:00,RS,other,low,Missing,gone.xml",
                     header=header)
    files = {"cap-1.xml": "<alert/>"}

    def reader(name: str) -> str:
        if name not in files:
            raise FileNotFoundError(f"no file {name!r} beside the MSEL")
        return files[name]

    with pytest.raises(MselError, match="row 3, column payload_file: no file 'gone.xml'"):
        read_msel(data, reader)
    assert read_msel(data.replace(b"gone.xml", b"cap-1.xml"), reader)[1].payload == "<alert/>"
    with pytest.raises(MselError, match="payload files are read only"):
        read_msel(data)


def test_msl020_a_formula_with_no_saved_value_says_so():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    cells = ROWS[0].split(",")
    sheet.append([int(cells[0]), *cells[1:9], float(cells[9]), float(cells[10]), *cells[11:]])
    sheet["H2"] = '=CONCAT("M6.1 ", "earthquake")'   # openpyxl saves no cached value, as a generator would
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(MselError) as caught:
        read_msel(data.getvalue())
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (2, "title") and "formulas must be saved as values" in problem.message

