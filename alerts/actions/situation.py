"""The situation picture for one viewer: figures over the alerts they may see, their assets, response times.

``situation_for`` is what the Situation page, ``GET /api/v1/summary`` and every
SITREP use, so they always agree. The window (``since``, ``until``; default
the 24 hours before now) decides the time-bound figures; the filters of the
query other than time still apply.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from alerts.actions.centre import Centre
from alerts.actions.errors import Invalid
from alerts.actions.visibility import restricted, visible_assets
from alerts.core.query import AlertQuery
from alerts.core.situation import situation, summarise
from alerts.core.viewer import Viewer
from alerts.i18n import N_
from alerts.i18n.content import headline

DEFAULT_WINDOW = timedelta(hours=24)


def visible_assets_table(centre: Centre, viewer: Viewer) -> pd.DataFrame:
    """The assets released to ``viewer`` as a table (``nation``, ``type``, ``status``)."""
    assets = visible_assets(centre, viewer)
    return pd.DataFrame([{"nation": a.nation, "type": a.type.value, "status": a.status.value} for a in assets],
                        columns=["nation", "type", "status"])


def window(centre: Centre, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """``(since, until)`` with the defaults filled in: until now, since 24 hours before ``until``; ``Invalid``
    when ``since`` is not before ``until`` (an inverted period would report on nothing, as if all were calm)."""
    until = until or centre.clock()
    since = since or until - DEFAULT_WINDOW
    if since >= until:
        raise Invalid(N_("since (%(since)s) must be before until (%(until)s)"),
                      values={"since": since.isoformat(), "until": until.isoformat()})
    return since, until


def situation_for(centre: Centre, viewer: Viewer, query: AlertQuery, since: datetime | None = None,
                  until: datetime | None = None) -> tuple[dict, pd.DataFrame]:
    """The figures (``alerts.core.situation.situation``) over what ``viewer`` may see matching ``query``,
    and the matching rows (all times: the window only bounds the time-bound figures). When the window
    starts before ``AlertIndex.held_since``, the figures carry ``held_since`` (ISO 8601): alerts closed
    before it may be missing (README, "Memory: the horizon"). Titles of the open critical and high incidents
    are in the current language where the alert carries one (``alerts.i18n.content.headline``)."""
    since, until = window(centre, since, until)
    scoped = restricted(centre, viewer, AlertQuery(severities=query.severities, types=query.types,
                                                   countries=query.countries, exercise=query.exercise))
    rows = centre.index.select(scoped)
    figures = situation(rows, centre.workflow.response_times(), since, until, visible_assets_table(centre, viewer))
    listed = figures["open_critical_high"]
    for item, stored in zip(listed, centre.index.get_many(item["id"] for item in listed)):
        if stored is not None:  # a CAP alert's own headline in the viewer's language
            item["title"] = headline(stored.alert)
    held_since = centre.index.held_since
    if held_since is not None and since < held_since:  # the period reaches back past what memory holds
        figures["held_since"] = held_since.isoformat()
    return figures, rows


def summary(centre: Centre, viewer: Viewer, query: AlertQuery) -> dict:
    """``GET /api/v1/summary``: the counts over the query plus the situation figures of its window."""
    figures, _ = situation_for(centre, viewer, query, query.since, query.until)
    return {**figures, **summarise(centre.index.select(restricted(centre, viewer, query)))}


def in_window(rows: pd.DataFrame, since: datetime, until: datetime) -> pd.DataFrame:
    """The rows reported in ``[since, until)``."""
    return rows[(rows["reported_at"] >= pd.Timestamp(since)) & (rows["reported_at"] < pd.Timestamp(until))]
