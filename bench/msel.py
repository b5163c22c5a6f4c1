"""6. Loading a MSEL: a 500-inject exercise from CSV and from XLSX, checked and stored (target: under 5 s).

The MSEL is synthetic: 500 rows for three nations, one inject a minute, every fifth with an expected
action and every tenth a backup of the one before. Each load is the whole use case the API, the page and
``crisisdash exercise load`` run (``alerts.actions.exercises.load``: read, check every row, build the
exercise, store it in Redis, audit), on a Centre of the run's prefix. Medians of ``repeats`` loads.
Baselines, same run, the plainest reading of the same bytes: ``csv.reader`` over the CSV and openpyxl's
read-only row iteration over the XLSX (no checks, nothing stored).
"""
from __future__ import annotations

import csv
import io
import statistics
import time

from bench.common import ROOT, client_for, fmt_ms, print_table

INJECTS = 500
TARGET_S = 5.0


def synthetic_msel(rows: int = INJECTS) -> list[list[str]]:
    """The header and ``rows`` inject rows."""
    header = ["inject", "offset", "from", "to", "type", "severity", "title", "lat", "lon", "expected_action",
              "objective", "backup_for"]
    body = []
    for n in range(1, rows + 1):
        body.append([str(n), f"{n // 60}:{n % 60:02d}:00", "EXCON", ("RS", "HR;BA", "MK")[n % 3], "hazmat", "high",
                     f"Inject {n}", f"{42 + (n % 40) / 10:.1f}", f"{19 + (n % 30) / 10:.1f}",
                     "acknowledge within 5m and assign cbrn_team within 30m" if n % 5 == 0 else "",
                     f"OBJ-{n % 4 + 1}", str(n - 5) if n % 10 == 0 else ""])  # backs up one that can be missed
    return [header, *body]


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def as_xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_msel(url: str, prefix: str, repeats: int = 3) -> dict:
    """Load times (ms) of the CSV and XLSX MSELs, and the plain-parse baselines."""
    import openpyxl

    from alerts.actions import exercises
    from alerts.actions.centre import Centre
    from alerts.core.asset_index import AssetIndex
    from alerts.core.checklists import Templates
    from alerts.core.coverage import Places
    from alerts.core.index import AlertIndex
    from alerts.core.roles import Role
    from alerts.core.viewer import Viewer
    from alerts.store.alerts import AlertStore
    from alerts.store.assets import AssetStore
    from alerts.store.audit import AuditLog
    from alerts.store.exercises import ExerciseStore
    from alerts.store.keys import Keys
    from alerts.store.sharing import ReleasabilityRequests
    from alerts.store.workflow import WorkflowStore

    client, keys = client_for(url), Keys(f"{prefix}:msel")
    alerts = AlertStore(client, keys)
    centre = Centre(alerts=alerts, index=AlertIndex(),
                    workflow=WorkflowStore(client, keys, alerts, Templates.load(ROOT / "checklists")),
                    assets=AssetStore(client, keys), asset_index=AssetIndex(), audit=AuditLog(client, keys),
                    places=Places.from_assets(ROOT / "assets"), requests=ReleasabilityRequests(client, keys), exercises=ExerciseStore(client, keys))
    excon = Viewer("bench-excon", Role.EXERCISE_CONTROL.value, None)
    rows = synthetic_msel()
    data = {"csv": as_csv(rows), "xlsx": as_xlsx(rows)}
    result = {"injects": INJECTS, "target_s": TARGET_S, "bytes": {k: len(v) for k, v in data.items()}}
    for kind, raw in data.items():
        result[f"load_{kind}_ms"] = _median_ms(lambda raw=raw: exercises.load(centre, excon, raw, f"bench {kind}"),
                                               repeats)
    result["baseline_csv_ms"] = _median_ms(lambda: list(csv.reader(io.StringIO(data["csv"].decode()))), repeats)
    result["baseline_xlsx_ms"] = _median_ms(lambda: list(openpyxl.load_workbook(
        io.BytesIO(data["xlsx"]), read_only=True).worksheets[0].iter_rows(values_only=True)), repeats)
    client.close()
    return result


def report_msel(result: dict) -> None:
    """Print the load times beside the plain parse of the same file."""
    rows = []
    for kind in ("csv", "xlsx"):
        load = result[f"load_{kind}_ms"]
        rows.append([f"load a {result['injects']}-inject MSEL ({kind}, {result['bytes'][kind]:,} B)", fmt_ms(load),
                     f"plain parse {fmt_ms(result[f'baseline_{kind}_ms'])}",
                     "under target" if load / 1000 < result["target_s"] else f"OVER {result['target_s']:g} s target"])
    print_table("6. MSEL load (checked, stored, audited)", ["figure", "median", "baseline (same run)", "verdict"],
                rows)
