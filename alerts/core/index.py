"""The in-memory read model of every alert, kept current from the events stream.

Each server process holds one ``AlertIndex``: filled once at start-up from the
stored alerts, then fed every event in stream order. Maps, lists, the API and
summaries read it instead of Redis, so a filter over 100,000 alerts is a
vectorised mask, not 100,000 round trips. It is safe to read from several
threads while one writer applies events.

**Horizon.** With a ``horizon``, an alert that has been closed (resolved,
cancelled or expired: ``Status.is_open`` false) for longer than it leaves
memory: its record and its row go, so what a process holds is the open
alerts plus the recently closed ones, not every alert ever received, and a
server's memory stays flat under a steady flow of alerts that open and close.
"Now" is the time of the last event applied (the stream id's milliseconds), so
the read model ages with the stream, not with a wall clock. An alert closes at
the time of the event that closed it; alerts loaded at start-up close at their
``received_at`` (when they closed was not recorded: a lower bound), so closed
alerts received longer than the horizon before the stream's last event are
not loaded at all. An evicted alert is still in Redis (and the record
archive): ``get`` fetches it by id with ``fetch``; an event about it (a late
change) puts it back. Lists, maps and summaries cover only what is held.

**Records in the store.** Given ``fetch_many`` (a server's index: ``AlertStore.get_many``), the index holds
no record at all, only the table's row and the routing of each alert: ``get``, ``get_many`` and ``search``
read the records of the ids asked for from the store, one round trip per ``FETCH_CHUNK`` ids (a list page of
50 is one ``MGET``). What they return is the record as stored, which is never older than the row (the store
is written before the event the index applies). Without it (a replay's index, tests, benchmarks) each record
is held as its JSON text.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from alerts.core.events import AlertEvent, stream_id_key
from alerts.core.model import Routing, StoredAlert
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
    alert_id = stored.id
    return {
        "id": alert_id,
        "identifier": alert_id if alert.id == alert_id else alert.id,  # (one string when the id is the producer's)
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


#: Records ``get_many`` asks the store for in one round trip (``fetch_many``).
FETCH_CHUNK = 1_000

#: Rows a start-up load turns into table rows at a time (``AlertIndex.load``).
LOAD_CHUNK = 10_000

#: Longest an alert past the horizon waits to leave memory with the next batch (``AlertIndex._evict``).
_MOST_SLACK = timedelta(seconds=60)


def before(now: datetime, span: timedelta) -> datetime:
    """``now - span``, or the earliest date (``datetime.min``, UTC) when that is before year 1 (a horizon longer
    than dates reach back: nothing is that old)."""
    try:
        return now - span
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def stream_time(event_id: str) -> datetime:
    """The time a Redis stream id (``"<ms>-<seq>"``) was given, UTC (``"0-0"``: the epoch)."""
    return datetime.fromtimestamp(stream_id_key(event_id)[0] / 1000, UTC)


class AlertIndex:
    """Every alert in memory, as records and as one incrementally updated table (see the module docstring).

    A row (a dict per alert) is kept only until the table has it: the table and the records hold the rest.
    Without ``fetch_many``, records are held as their JSON text and parsed again by ``get`` (~30 us each): a
    ``StoredAlert`` object tree takes about five times the memory, and lists, maps and summaries read the
    table, not records. ``horizon``: how long a closed alert stays held (None: for ever); ``fetch(alert_id)``:
    the stored alert by id from the store (None: not stored), for ``get`` of one that is not held;
    ``fetch_many(ids)``: the stored alerts of ``ids`` in one round trip (None where not stored): records are
    then not held at all (see the module docstring)."""

    def __init__(self, horizon: timedelta | None = None,
                 fetch: Callable[[str], StoredAlert | None] | None = None,
                 fetch_many: Callable[[list[str]], list[StoredAlert | None]] | None = None) -> None:
        self._lock = threading.RLock()
        self.holds_records = fetch_many is None
        self._fetch_many = fetch_many
        self._alerts: dict[str, str] = {}  # id -> the record as JSON (compact: ~1 KB, not ~5 KB of objects)
        self._position: dict[str, int] = {}
        self._pending: dict[int, dict] = {}  # rows (by position) not in the table yet
        self._sets: dict[frozenset, frozenset] = {}  # one of each set of countries or nations (``_row``)
        self._routing: dict[str, Routing] = {}  # id -> its routing, one object per distinct routing (``routing``)
        self._routings: dict[tuple, Routing] = {}
        self._table: pd.DataFrame | None = None
        self.horizon, self._fetch = horizon, fetch
        self._closed_at: dict[str, datetime] = {}  # held closed alerts: when they closed
        self._closing: deque[tuple[datetime, str]] = deque()  # the same, in the order they closed
        self.evicted = 0  # alerts that left memory so far (see the module docstring)
        self.cursor = "0-0"  # id of the last event applied
        self.version = 0

    def __len__(self) -> int:
        return len(self._position)

    def load(self, alerts: Iterable[StoredAlert], cursor: str, chunk: int = LOAD_CHUNK) -> None:
        """Fill from stored alerts read after ``cursor`` was taken as the stream position (closed alerts
        received longer than the horizon before it are left out: see the module docstring); their rows join
        the table ``chunk`` at a time (rows as dicts take about three times the table's memory)."""
        cutoff = None if self.horizon is None else before(stream_time(cursor), self.horizon)
        with self._lock:
            closed = []
            for stored in alerts:
                if cutoff is not None and not stored.status.is_open:
                    if stored.received_at < cutoff:
                        self.evicted += 1  # (not held: as if it had left)
                        continue
                    closed.append((stored.received_at, stored.id))
                self._put(stored)
                if len(self._pending) >= chunk:
                    self.table()
            for at, alert_id in sorted(closed):
                self._closed(alert_id, at)
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
            if self.horizon is not None:
                now = stream_time(event.event_id)
                if not event.alert.status.is_open:
                    self._closed(event.alert.id, now)
                self._evict(now)
            return True

    def _put(self, stored: StoredAlert) -> None:
        position = self._position.get(stored.id)
        if position is None:
            position = self._position[stored.id] = len(self._position)
        self._pending[position] = _row(stored, self._sets)
        routing = stored.routing
        same = tuple(tuple(v) if isinstance(v, list) else v for v in routing.__dict__.values())
        self._routing[stored.id] = self._routings.setdefault(same, routing)
        if self.holds_records:
            self._alerts[stored.id] = stored.model_dump_json(exclude_defaults=True)  # (defaults come back on parse)

    def _closed(self, alert_id: str, at: datetime) -> None:
        """Note that held alert ``alert_id`` closed at ``at`` (the first time only); ``at`` never precedes
        the last one noted (the queue stays in order)."""
        if alert_id not in self._closed_at:
            at = max(at, self._closing[-1][0]) if self._closing else at
            self._closed_at[alert_id] = at
            self._closing.append((at, alert_id))

    def _evict(self, now: datetime) -> None:
        """Drop the alerts closed before ``now - horizon`` (records, rows, positions); caller holds the lock."""
        if self.horizon is None or not self._closing:
            return
        cutoff, gone = before(now, self.horizon), []
        if self._closing[0][0] >= before(cutoff, min(self.horizon / 20, _MOST_SLACK)):
            return  # (in batches: each eviction copies the table once)
        while self._closing and self._closing[0][0] < cutoff:
            _, alert_id = self._closing.popleft()
            gone.append(alert_id)
        table = self.table()  # every pending row in it, so positions are rows
        drop = [self._position[i] for i in gone]
        for alert_id in gone:
            del self._closed_at[alert_id], self._routing[alert_id]
            self._alerts.pop(alert_id, None)
        keep = np.ones(len(table), dtype=bool)
        keep[drop] = False
        self._table = table[keep].reset_index(drop=True)
        self._position = {alert_id: n for n, alert_id in enumerate(self._table["id"])}
        self.evicted += len(gone)

    @property
    def held_since(self) -> datetime | None:
        """Closed alerts that closed before this time may be missing from what is held (None: no horizon,
        every alert is held): answers over a period that starts earlier say so. It follows from the horizon
        and the stream's time alone (floored to the minute), never from whether an alert left, so it tells
        a viewer nothing about alerts they may not see."""
        if self.horizon is None:
            return None
        try:
            return (stream_time(self.cursor) - self.horizon).replace(second=0, microsecond=0)
        except (OverflowError, ValueError):
            return None

    def get(self, alert_id: str, query: AlertQuery | None = None) -> StoredAlert | None:
        """One alert, or None if it does not exist *or the query may not see it*. An alert that is not held
        (beyond the horizon) is fetched from the store, when the index was given ``fetch``; without held records
        (``fetch_many``) every alert is."""
        held = self._alerts.get(alert_id)
        if held is None:
            return self.get_many([alert_id], query)[0]
        stored = StoredAlert.from_json(held)
        return None if query is not None and not query.releasable(stored) else stored

    def get_many(self, alert_ids: Iterable[str], query: AlertQuery | None = None) -> list[StoredAlert | None]:
        """``get`` of each of ``alert_ids``, in order; those not held are read from the store in one round
        trip per ``FETCH_CHUNK`` (``fetch_many``; with ``fetch`` alone, one each)."""
        alert_ids = list(alert_ids)
        found: list[StoredAlert | None] = []
        for alert_id in alert_ids:
            held = self._alerts.get(alert_id)
            found.append(None if held is None else StoredAlert.from_json(held))
        missing = [n for n, stored in enumerate(found) if stored is None]
        if missing and self._fetch_many is not None:
            for start in range(0, len(missing), FETCH_CHUNK):
                chunk = missing[start : start + FETCH_CHUNK]
                for n, stored in zip(chunk, self._fetch_many([alert_ids[n] for n in chunk])):
                    found[n] = stored
        elif missing and self._fetch is not None:
            for n in missing:
                found[n] = self._fetch(alert_ids[n])
        if query is not None:
            found = [s if s is not None and query.releasable(s) else None for s in found]
        return found

    def routing(self, alert_id: str) -> Routing | None:
        """The routing of a held alert (None: not held), without parsing its record: what a page's marking
        is made of (``alerts.actions.markings.marking_of_ids``) over every alert it shows."""
        return self._routing.get(alert_id)

    def table(self) -> pd.DataFrame:
        """Every alert held as one table, in the order first seen (row ``i`` the ``i``-th still held).

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
        """A page of the alerts ``query`` matches, newest report first, with the total. A query for one
        producer ``identifier`` also finds the alert of that id when it is not held (``fetch``)."""
        rows = self.select(query)
        ids = list(rows["id"])
        if query.identifier is not None and query.identifier not in self._position and self._fetch is not None:
            stored = self.get(query.identifier)
            if stored is not None and query.matches(stored):
                # its place among the rows, newest first (the rows' times are at hand: no read per row)
                reported = stored.alert.reported_at
                ids.insert(next((i for i, t in enumerate(rows["reported_at"]) if t < reported), len(ids)), stored.id)
        chosen = ids[page.offset : page.offset + page.limit]
        # (releasable again: a record read from the store may have been narrowed since the row was made)
        return QueryResult(total=len(ids), alerts=[stored for stored in self.get_many(chosen, query)
                                                   if stored is not None])

