"""The marking of what a viewer is shown: one ``Marking`` covering every alert on a page or in an export.

Most restrictive wins (``alerts.core.markings.most_restrictive``): the
highest classification and TLP, every caveat, and only the nations every
item is released to. Content without alerts carries the lowest level.

Which alerts a view is *made of* decides its marking, not which alerts the
viewer could see: a SITREP or the Situation page is drawn from the open
alerts and those reported or received in its window
(``alerts.core.situation``), so an old closed alert outside the window never
raises it (``situation_marking``), and an alert that fed a count always does.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from alerts.actions.centre import Centre
from alerts.core.markings import Marking, most_restrictive
from alerts.core.model import StoredAlert


def marking_of(centre: Centre, alerts: Iterable[StoredAlert]) -> Marking:
    """The marking covering ``alerts`` under the deployment's classification levels."""
    return most_restrictive((stored.routing.marking(centre.scheme) for stored in alerts), centre.scheme)


def marking_of_ids(centre: Centre, ids: Iterable[str]) -> Marking:
    """``marking_of`` the alerts of the read model with these ids (ids no longer held are skipped), from their
    routing alone (``AlertIndex.routing``: a map of 100,000 alerts is marked without reading 100,000 records)."""
    # the index shares one Routing among alerts routed alike, and the most restrictive of many equal markings is
    # that marking: each distinct one is counted once
    distinct = {id(r): r for r in map(centre.index.routing, ids) if r is not None}
    return most_restrictive((routing.marking(centre.scheme) for routing in distinct.values()), centre.scheme)


def situation_ids(rows: pd.DataFrame, since: datetime, until: datetime) -> list[str]:
    """The ids of the rows the situation figures are drawn from (``alerts.core.situation.situation``):
    open whenever reported, or reported in ``[since, until)``, or received in it."""
    if rows.empty:
        return []
    start, end = pd.Timestamp(since), pd.Timestamp(until)
    used = (rows["open"] | ((rows["reported_at"] >= start) & (rows["reported_at"] < end))
            | ((rows["received_at"] >= start) & (rows["received_at"] < end)))
    return rows.loc[used, "id"].tolist()


def situation_marking(centre: Centre, rows: pd.DataFrame, since: datetime, until: datetime) -> Marking:
    """The marking of a situation picture (SITREP narrative, Situation page) over ``rows`` and its window."""
    return marking_of_ids(centre, situation_ids(rows, since, until))
