"""The in-memory read model of every alert, kept current from the events stream.

Each server process holds one ``AlertIndex``: filled once at start-up from the
stored alerts, then fed every event in stream order. Maps, lists, the API and
summaries read it instead of Redis, so a filter over 100,000 alerts is a
vectorised mask, not 100,000 round trips. It is safe to read from several
threads while one writer applies events.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

import pandas as pd

from alerts.core.events import AlertEvent, stream_id_key
from alerts.core.model import StoredAlert
from alerts.core.query import AlertQuery, Page, QueryResult

COLUMNS = [
    "id", "identifier", "lon", "lat", "severity", "severity_rank", "type", "title", "country", "countries",
    "region", "region_code", "reported_at", "received_at", "exercise", "status", "open", "source",
    "escalation", "releasable", "routed", "classification", "nation",
]


def _row(stored: StoredAlert, shared: dict[frozenset, frozenset]) -> dict:
    """The alert's row of the table; its sets of countries and nations are ``shared`` (few distinct ones)."""
    alert = stored.alert
    countries, releasable = frozenset(stored.placement.countries), frozenset(stored.releasable_nations())
    return {
        "id": stored.id,
        "identifier": alert.id,
        "lon": stored.lon if stored.located else float("nan"),
        "lat": stored.lat if stored.located else float("nan"),
        "severity": alert.severity.value,
        "severity_rank": alert.severity.rank,
        "type": alert.type.value,
        "title": alert.title,
        "country": stored.placement.country or "",
        "countries": shared.setdefault(countries, countries),
        "region": stored.region_name,
        "region_code": stored.placement.regions[0].code if stored.placement.regions else "",
        "reported_at": alert.reported_at,
        "received_at": stored.received_at,
        "exercise": alert.exercise,
        "status": stored.status.value,
        "open": stored.status.is_open,
        "source": alert.source,
        "escalation": stored.escalation_level,
        "releasable": shared.setdefault(releasable, releasable),
        "routed": stored.routing.routed,
        "classification": stored.routing.classification or "",
        "nation": stored.routing.nation or "",
    }


_DTYPES = {"exercise": bool, "open": bool, "routed": bool, "lon": float, "lat": float, "severity_rank": int,
           "reported_at": "datetime64[us, UTC]", "received_at": "datetime64[us, UTC]"}


def _frame(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("reported_at", "received_at"):
        table[column] = pd.to_datetime(table[column], utc=True)
    return table.astype(_DTYPES)


class AlertIndex:
    """Every alert in memory, as records and as one incrementally updated table (see the module docstring).

    A row (a dict per alert) is kept only until the table has it: the table and the records hold the rest."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._alerts: dict[str, StoredAlert] = {}
        self._position: dict[str, int] = {}
        self._pending: dict[int, dict] = {}  # rows (by position) not in the table yet
        self._sets: dict[frozenset, frozenset] = {}  # one of each set of countries or nations (``_row``)
        self._table: pd.DataFrame | None = None
        self.cursor = "0-0"  # id of the last event applied
        self.version = 0

    def __len__(self) -> int:
        return len(self._alerts)

    def load(self, alerts: Iterable[StoredAlert], cursor: str) -> None:
        """Fill from stored alerts read after ``cursor`` was taken as the stream position."""
        with self._lock:
            for stored in alerts:
                self._put(stored)
            self.cursor = cursor
            self.version += 1

    def apply(self, event: AlertEvent) -> bool:
        """Apply one event; events at or before the cursor are ignored (replays)."""
        with self._lock:
            if stream_id_key(event.event_id) <= stream_id_key(self.cursor):
                return False
            self._put(event.alert)
            self.cursor = event.event_id
            self.version += 1
            return True

    def _put(self, stored: StoredAlert) -> None:
        position = self._position.get(stored.id)
        if position is None:
            position = self._position[stored.id] = len(self._position)
        self._pending[position] = _row(stored, self._sets)
        self._alerts[stored.id] = stored

    def get(self, alert_id: str, query: AlertQuery | None = None) -> StoredAlert | None:
        """One alert, or None if it does not exist *or the query may not see it*."""
        stored = self._alerts.get(alert_id)
        if stored is None or (query is not None and not query.releasable(stored)):
            return None
        return stored

    def table(self) -> pd.DataFrame:
        """All alerts as one table, row i being the i-th alert first seen.

        Built once, then brought up to date with only what changed since:
        new rows appended, changed rows replaced.
        """
        with self._lock:
            pending, table = self._pending, self._table
            if table is None:
                table = _frame([pending[p] for p in range(len(self._position))])
            elif pending:
                replaced = sorted(p for p in pending if p < len(table))
                if replaced:
                    table = table.copy()
                    table.iloc[replaced] = _frame([pending[p] for p in replaced]).to_numpy()
                    table = table.astype(_DTYPES)
                if len(table) < len(self._position):
                    added = [pending[p] for p in range(len(table), len(self._position))]
                    table = pd.concat([table, _frame(added)], ignore_index=True)
            self._table, self._pending = table, {}
            return table

    def select(self, query: AlertQuery) -> pd.DataFrame:
        """Matching rows, newest report first."""
        table = self.table()
        matching = table[query.mask(table)]
        return matching.sort_values("reported_at", ascending=False, kind="stable")

    def search(self, query: AlertQuery, page: Page = Page()) -> QueryResult:
        """A page of the alerts ``query`` matches, newest report first, with the total."""
        rows = self.select(query)
        ids = rows["id"].iloc[page.offset : page.offset + page.limit]
        return QueryResult(total=len(rows), alerts=[self._alerts[i] for i in ids])

