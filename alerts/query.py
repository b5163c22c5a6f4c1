"""What a viewer asks to see: the filters shared by the map, the lists, the API and live push.

One ``AlertQuery`` is applied in one place (``AlertQuery.mask`` over the read
model's table, ``AlertQuery.matches`` for a single live alert) so the map, the
API and the live stream can never disagree about what a filter means.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from alerts.model import RELEASABLE_TO_ALL, StoredAlert

ExerciseFilter = Literal["all", "real", "exercise"]
StatusFilter = Literal["all", "open", "closed"]


@dataclass(frozen=True)
class AlertQuery:
    severities: frozenset[str] = frozenset()  # empty: any
    types: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    since: datetime | None = None  # reported_at >= since
    until: datetime | None = None  # reported_at < until
    exercise: ExerciseFilter = "all"
    status: StatusFilter = "all"
    #: The viewer's nation: only alerts released to it (or to ALL) match.
    #: None means no releasability restriction (system use only).
    nation: str | None = None
    #: A missing ``releasable_to`` means the reporting nation only.
    default_to_source: bool = True

    def with_nation(self, nation: str | None) -> "AlertQuery":
        return replace(self, nation=nation)

    def matches(self, stored: StoredAlert) -> bool:
        alert = stored.alert
        if self.severities and alert.severity.value not in self.severities:
            return False
        if self.types and alert.type.value not in self.types:
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
        if self.nation is None:
            return True
        nations = stored.releasable_nations(self.default_to_source)
        return self.nation in nations or RELEASABLE_TO_ALL in nations

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        """The rows of the read model's table (see ``AlertIndex.table``) that match."""
        keep = np.ones(len(table), dtype=bool)
        if self.severities:
            keep &= table["severity"].isin(self.severities).to_numpy()
        if self.types:
            keep &= table["type"].isin(self.types).to_numpy()
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
        if self.nation is not None:
            column = "releasable" if self.default_to_source else "releasable_default_all"
            nation = self.nation
            keep &= table[column].map(lambda ns: nation in ns or RELEASABLE_TO_ALL in ns).to_numpy(dtype=bool)
        return keep


@dataclass(frozen=True)
class Page:
    limit: int = 100
    offset: int = 0


@dataclass
class QueryResult:
    total: int
    alerts: list[StoredAlert] = field(default_factory=list)
