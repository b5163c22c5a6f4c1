"""What a viewer asks to see: the filters shared by the map, the lists, the API and live push.

One ``AlertQuery`` is applied in one place (``AlertQuery.mask`` over the read
model's table, ``AlertQuery.matches`` for a single live alert) so the map, the
API and the live stream can never disagree about what a filter means. Its one
URL form is ``parse_query`` / ``encode_query``:

| parameter      | meaning                                                          |
|----------------|------------------------------------------------------------------|
| ``severity``   | repeat or comma-separate; absent: any; present but empty: none   |
| ``type``, ``country`` | repeat or comma-separate; absent or empty: any            |
| ``since``, ``until`` | ISO 8601 with a UTC offset, 1900-2200; ``reported_at`` in [since, until) |
| ``window_hours`` | reported within the last N hours (a finite number > 0, at most 10 years) |
| ``exercise``   | ``all`` (default), ``real``, ``exercise``                         |
| ``identifier`` | the producer's id: every alert that carries it (ids may collide across producers) |
| ``status``     | ``all`` (default), ``open``, ``closed``                           |

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from alerts.core.markings import RELEASABLE_TO_ALL
from alerts.core.model import AlertType, Routing, Severity, StoredAlert
from alerts.core.times import parse_instant

ExerciseFilter = Literal["all", "real", "exercise"]
StatusFilter = Literal["all", "open", "closed"]
#: The longest ``window_hours`` accepted (ten years).
MAX_WINDOW_HOURS = 24 * 366 * 10


class BadQuery(ValueError):
    """A query parameter that cannot be understood; the message names it (HTTP 422)."""


@dataclass(frozen=True)
class AlertQuery:
    """Filters over alerts; every field left at its default matches everything."""

    #: None: any severity; an empty set: none (nothing matches).
    severities: frozenset[str] | None = None
    types: frozenset[str] = frozenset()  # empty: any
    countries: frozenset[str] = frozenset()  # empty: any; an alert matches if it touches one
    #: Only alerts whose producer id is this (several may share it; see ``alerts.core.identity``).
    identifier: str | None = None
    since: datetime | None = None  # reported_at >= since
    until: datetime | None = None  # reported_at < until
    exercise: ExerciseFilter = "all"
    status: StatusFilter = "all"
    #: The viewer's nation: only alerts released to it (or to ALL) match.
    #: None means no releasability restriction (system use only).
    nation: str | None = None
    #: The classification levels the viewer is cleared for ("" stands for unmarked: the lowest);
    #: None means any (system use only).
    cleared: frozenset[str] | None = None
    #: Only unrouted alerts (the admins' Unrouted view), whatever ``nation``; else only routed ones
    #: match a query with a nation.
    unrouted: bool = False

    def with_nation(self, nation: str | None) -> "AlertQuery":
        """The same filters for another viewer nation."""
        return replace(self, nation=nation)

    def matches(self, stored: StoredAlert) -> bool:
        """Whether one alert passes every filter, releasability included."""
        alert = stored.alert
        if self.severities is not None and alert.severity.value not in self.severities:
            return False
        if self.types and alert.type.value not in self.types:
            return False
        if self.identifier is not None and alert.id != self.identifier:
            return False
        if self.countries and not (set(stored.placement.countries) & self.countries):
            return False
        if self.since is not None and alert.reported_at < self.since:
            return False
        if self.until is not None and alert.reported_at >= self.until:
            return False
        if self.exercise == "real" and alert.exercise:
            return False
        if self.exercise == "exercise" and not alert.exercise:
            return False
        if self.status != "all" and stored.status.is_open != (self.status == "open"):
            return False
        return self.releasable(stored)

    def releasable(self, stored: StoredAlert) -> bool:
        """Whether ``stored`` is released to this query's nation and within its clearance
        (see ``nation``, ``cleared``, ``unrouted``)."""
        return self.releases(stored.routing)

    def releases(self, routing: Routing) -> bool:
        """Whether an alert of ``routing`` is released to this query's viewer (``releasable``)."""
        if self.cleared is not None and (routing.classification or "") not in self.cleared:
            return False
        if self.unrouted:
            return not routing.routed
        if self.nation is None:
            return True
        nations = routing.releasable_to or ()
        return self.nation in nations or RELEASABLE_TO_ALL in nations

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean array: the rows of the read model's table (see ``AlertIndex.table``) that match."""
        keep = np.ones(len(table), dtype=bool)
        if self.severities is not None:
            keep &= table["severity"].isin(self.severities).to_numpy()
        if self.types:
            keep &= table["type"].isin(self.types).to_numpy()
        if self.identifier is not None:
            keep &= (table["identifier"] == self.identifier).to_numpy()
        if self.countries:
            keep &= table["countries"].map(lambda cs: not self.countries.isdisjoint(cs)).to_numpy(dtype=bool)
        if self.since is not None:
            keep &= (table["reported_at"] >= pd.Timestamp(self.since)).to_numpy()
        if self.until is not None:
            keep &= (table["reported_at"] < pd.Timestamp(self.until)).to_numpy()
        if self.exercise != "all":
            keep &= (table["exercise"] == (self.exercise == "exercise")).to_numpy()
        if self.status != "all":
            keep &= (table["open"] == (self.status == "open")).to_numpy()
        if self.cleared is not None:
            keep &= table["classification"].isin(self.cleared).to_numpy()
        if self.unrouted:
            keep &= ~table["routed"].to_numpy(dtype=bool)
        elif self.nation is not None:
            nation = self.nation
            keep &= table["releasable"].map(lambda ns: nation in ns or RELEASABLE_TO_ALL in ns).to_numpy(dtype=bool)
        return keep


@dataclass(frozen=True)
class Page:
    """A slice of a result: at most ``limit`` items from ``offset`` (0-based)."""

    limit: int = 100
    offset: int = 0


@dataclass
class QueryResult:
    """``total`` matching alerts, and the ``alerts`` of the requested page."""

    total: int
    alerts: list[StoredAlert] = field(default_factory=list)


# --- the URL form ------------------------------------------------------------------------------


def _values(params: Mapping[str, Sequence[str]], name: str) -> frozenset[str]:
    values: set[str] = set()
    for raw in params.get(name, ()):
        values.update(v.strip() for v in raw.split(",") if v.strip())
    return frozenset(values)


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or ()
    return values[-1] if values else None


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_instant(value, name)  # ISO 8601 with an offset, 1900-2200 (alerts.core.times)
    except ValueError as exc:
        raise BadQuery(f"{exc} (e.g. 2026-11-27T10:00:00Z)") from None


def _choice(value: str | None, allowed: set[str], name: str, default: str) -> str:
    value = value or default
    if value not in allowed:
        raise BadQuery(f"{name}: must be one of {sorted(allowed)}")
    return value


_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")


def _hours(value: str) -> float:
    if not _DECIMAL.match(value.strip()):  # float() would also take "1_0", "nan" and full-width digits
        raise BadQuery("window_hours: must be a number (digits, optionally a decimal point)")
    hours = float(value)
    if not math.isfinite(hours) or not 0 < hours <= MAX_WINDOW_HOURS:
        raise BadQuery(f"window_hours: must be a finite number of hours above 0 and at most {MAX_WINDOW_HOURS}")
    return hours


def parse_query(params: Mapping[str, Sequence[str]], now: Callable[[], datetime]) -> AlertQuery:
    """An ``AlertQuery`` from URL parameters (name -> values; see the table above); raises ``BadQuery``.

    ``now`` gives the current time (UTC) for ``window_hours``.
    """
    severities = _values(params, "severity") if "severity" in params else None
    types = _values(params, "type")
    bad = ((severities or frozenset()) - {s.value for s in Severity}) | (types - {t.value for t in AlertType})
    if bad:
        raise BadQuery(f"unknown severity or type: {sorted(bad)}")
    since = _time(_one(params, "since"), "since")
    window = _one(params, "window_hours")
    if window:
        since = max(filter(None, [since, now() - timedelta(hours=_hours(window))]))
    return AlertQuery(
        severities=severities,
        types=types,
        countries=frozenset(c.upper() for c in _values(params, "country")),
        since=since,
        until=_time(_one(params, "until"), "until"),
        identifier=_one(params, "identifier") or None,
        exercise=_choice(_one(params, "exercise"), {"all", "real", "exercise"}, "exercise", "all"),  # type: ignore[arg-type]
        status=_choice(_one(params, "status"), {"all", "open", "closed"}, "status", "all"),  # type: ignore[arg-type]
    )


def encode_query(severities=None, types=(), countries=(), window_hours=None, exercise="all") -> str:
    """The URL query string for these filters (what the map sends to its live stream).

    ``severities=None`` means any; an empty list means none (sent as ``severity=``).
    """
    params: list[tuple[str, str]] = []
    if severities is not None:
        params += [("severity", s) for s in severities] or [("severity", "")]
    params += [("type", t) for t in types or ()]
    params += [("country", c) for c in countries or ()]
    if window_hours:
        params.append(("window_hours", str(window_hours)))
    if exercise and exercise != "all":
        params.append(("exercise", exercise))
    return urlencode(params)
