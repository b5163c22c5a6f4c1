"""The situation picture leadership reads: figures over the alerts a viewer may see.

Pure functions over the read model's table (``AlertIndex.table`` rows already
filtered by ``AlertQuery``), the response times recorded by the workflow and,
when there are any, the assets table. Domain core: no Redis, no Dash.

Definitions (the tests check each against a scripted scenario):

- *open*: status not resolved or cancelled, whenever reported.
- *time to acknowledge*: acknowledged_at - received_at, over the alerts
  received inside the window that have been acknowledged; likewise *time to
  resolve* with resolved_at. Median and 90th percentile (linear interpolation),
  in seconds; None when there is nothing to measure.
- *escalated*: open alerts whose escalation level is 1 or more.
- *trend*: alerts reported inside the window per hour (UTC) and type, over
  at most the last ``MAX_TREND_HOURS`` of it (so any window answers in bounded time and size).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from alerts.core.model import AlertType, Severity

OPEN_TABLE_SEVERITIES = ("critical", "high")
#: The trend covers at most the last this many hours of the window (92 days), whatever its length.
MAX_TREND_HOURS = 24 * 92
#: The table of open critical and high incidents lists at most this many (most urgent first).
OPEN_TABLE_LIMIT = 500


@dataclass(frozen=True)
class ResponseTimes:
    """When each alert was acknowledged / resolved, by whom, and its escalation level."""

    acknowledged: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id -> (by, at)
    resolved: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    escalation: dict[str, int] = field(default_factory=dict)


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"count": 0, "median_s": None, "p90_s": None}
    values = np.asarray(seconds, dtype=float)
    return {"count": int(len(values)), "median_s": round(float(np.percentile(values, 50)), 1),
            "p90_s": round(float(np.percentile(values, 90)), 1)}


def _durations(rows: pd.DataFrame, marks: dict[str, tuple[str, datetime]]) -> list[float]:
    """Seconds from receipt to the mark, for the rows that have one (vectorised)."""
    if not marks or rows.empty:
        return []
    # (one hash lookup per row and one float per mark: a Series built from the dict and ``map`` took 3x longer)
    where = pd.Index(list(marks)).get_indexer(rows["id"])
    found = where >= 0
    if not found.any():
        return []
    at = np.fromiter((mark[1].timestamp() for mark in marks.values()), dtype=float, count=len(marks))
    received = rows["received_at"].to_numpy(dtype="datetime64[us]")[found].astype("int64") / 1e6
    return (at[where[found]] - received).tolist()


def situation(rows: pd.DataFrame, times: ResponseTimes, since: datetime, until: datetime,
              assets: pd.DataFrame | None = None) -> dict:
    """Every figure of the summary page and ``GET /api/v1/summary`` (see the module docstring)."""
    open_rows = rows[rows["open"]]
    in_window = rows[(rows["reported_at"] >= pd.Timestamp(since)) & (rows["reported_at"] < pd.Timestamp(until))]
    received_in_window = rows[(rows["received_at"] >= pd.Timestamp(since))
                              & (rows["received_at"] < pd.Timestamp(until))]
    escalated_ids = [alert_id for alert_id, level in times.escalation.items() if level >= 1]
    escalated = int(open_rows["id"].isin(escalated_ids).sum())

    trend_since = max(pd.Timestamp(since), pd.Timestamp(until) - pd.Timedelta(hours=MAX_TREND_HOURS))
    hours = pd.date_range(trend_since.floor("h"), pd.Timestamp(until).ceil("h"), freq="h", inclusive="left")
    types = [t.value for t in AlertType]
    grid = np.zeros((len(types), len(hours)), dtype=int)
    if len(in_window) and len(hours):
        slot = ((in_window["reported_at"].dt.floor("h") - hours[0]) // pd.Timedelta(hours=1)).to_numpy(dtype=int)
        kind = pd.Categorical(in_window["type"], categories=types).codes
        inside = (slot >= 0) & (slot < len(hours)) & (kind >= 0)
        np.add.at(grid, (kind[inside], slot[inside]), 1)
    trend = {type_: grid[i].tolist() for i, type_ in enumerate(types)}

    urgent = open_rows[open_rows["severity"].isin(OPEN_TABLE_SEVERITIES)]
    table = urgent.sort_values(["severity_rank", "reported_at"], ascending=[True, False]).head(OPEN_TABLE_LIMIT)
    open_incidents = [
        {"id": r.id, "title": r.title, "severity": r.severity, "type": r.type, "status": r.status,
         "country": r.country, "region": r.region, "reported_at": r.reported_at.isoformat(),
         "owner": times.acknowledged.get(r.id, ("", None))[0], "exercise": bool(r.exercise),
         "escalation_level": times.escalation.get(r.id, 0)}
        for r in table.itertuples()
    ]
    return {
        "window": {"since": since.isoformat(), "until": until.isoformat()},
        "open_alerts": int(len(open_rows)),
        "open_by_severity": {s.value: int((open_rows["severity"] == s.value).sum()) for s in Severity},
        "escalated_alerts": escalated,
        "time_to_acknowledge": _percentiles(_durations(received_in_window, times.acknowledged)),
        "time_to_resolve": _percentiles(_durations(received_in_window, times.resolved)),
        "open_by_country": {str(k): int(v) for k, v in
                            open_rows["country"].replace("", "unplaced").value_counts().sort_index().items()},
        "open_by_region": {str(k): int(v) for k, v in
                           open_rows["region"].replace("", "unplaced").value_counts().sort_index().items()},
        "open_by_region_code": {str(k): int(v) for k, v in
                                open_rows.loc[open_rows["region_code"] != "", "region_code"].value_counts().items()},
        "trend": {"hours": [h.isoformat() for h in hours], "by_type": trend},
        "open_critical_high": open_incidents,
        "open_critical_high_total": int(len(urgent)),
        "assets": _asset_figures(assets),
    }


def _asset_figures(assets: pd.DataFrame | None) -> dict:
    if assets is None or assets.empty:
        return {"ready": 0, "committed": 0, "by_nation": {}, "by_type": {}}
    figures: dict = {"ready": int((assets["status"] == "ready").sum()),
                     "committed": int((assets["status"] == "committed").sum())}
    for column, name in (("nation", "by_nation"), ("type", "by_type")):
        counts = assets[assets["status"].isin(["ready", "committed"])].groupby([column, "status"]).size()
        figures[name] = {}
        for (key, status), count in counts.items():
            figures[name].setdefault(str(key), {"ready": 0, "committed": 0})[status] = int(count)
    return figures


def summarise(rows: pd.DataFrame) -> dict:
    """Counts over the rows the viewer may see (already filtered by ``AlertQuery``).

    ``total_alerts``, ``open_alerts``, ``exercise_alerts``; ``by_severity``,
    ``open_by_severity``, ``by_type`` (every value, zeros included) and
    ``by_country`` (ISO2, or ``unplaced``).
    """
    open_rows = rows[rows["open"]]
    by_country = rows["country"].replace("", "unplaced").value_counts()
    return {
        "total_alerts": int(len(rows)),
        "open_alerts": int(len(open_rows)),
        "exercise_alerts": int(rows["exercise"].sum()),
        "by_severity": {s.value: int((rows["severity"] == s.value).sum()) for s in Severity},
        "open_by_severity": {s.value: int((open_rows["severity"] == s.value).sum()) for s in Severity},
        "by_type": {t.value: int((rows["type"] == t.value).sum()) for t in AlertType},
        "by_country": {str(k): int(v) for k, v in by_country.sort_index().items()},
    }
