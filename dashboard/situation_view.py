"""The situation picture for one viewer: alerts they may see, response times, their visible assets."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from alerts.asset_store import AssetStore
from alerts.query import AlertQuery
from alerts.response_times import read_response_times
from alerts.situation import situation
from dashboard import services as services_module
from dashboard.auth import Viewer

DEFAULT_WINDOW = timedelta(hours=24)


def visible_assets(viewer: Viewer) -> pd.DataFrame:
    services = services_module.current()
    assets = [a for a in AssetStore(services.client, services.keys).all() if a.visible_to(viewer.nation)]
    return pd.DataFrame([{"nation": a.nation, "type": a.type.value, "status": a.status.value} for a in assets],
                        columns=["nation", "type", "status"])


def situation_for(viewer: Viewer, query: AlertQuery, since: datetime | None = None,
                  until: datetime | None = None) -> tuple[dict, pd.DataFrame]:
    """Figures over what ``viewer`` may see matching ``query`` (its own time filters are ignored:
    the window decides); returns the figures and the matching rows."""
    services = services_module.current()
    until = until or datetime.now(UTC)
    since = since or until - DEFAULT_WINDOW
    scoped = viewer.restrict(AlertQuery(severities=query.severities, types=query.types,
                                        countries=query.countries, exercise=query.exercise), services.settings)
    rows = services.index.select(scoped)
    times = read_response_times(services.client, services.keys)
    return situation(rows, times, since, until, visible_assets(viewer)), rows
