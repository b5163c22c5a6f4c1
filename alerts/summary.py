"""Situation figures over a set of alerts (what leadership and the API summary show)."""
from __future__ import annotations

import pandas as pd

from alerts.model import AlertType, Severity


def summarise(rows: pd.DataFrame) -> dict:
    """Counts over the rows the viewer may see (already filtered by ``AlertQuery``)."""
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
