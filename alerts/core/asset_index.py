"""The in-memory read model of every response asset, kept current from the asset events stream.

Each server process holds one ``AssetIndex`` (like ``AlertIndex`` for alerts):
filled at start-up from the stored assets, then fed every ``asset.updated``
event in stream order. Lists, suggestions, coverage and the map read it. Safe
to read from several threads while one writer applies events.

Domain core: no Redis, no Dash.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable

from alerts.core.assets import Asset
from alerts.core.events import AssetEvent, stream_id_key
from alerts.core.suitability import AssetTable


class AssetIndex:
    """Every asset by id, the stream cursor it reflects, and column arrays for ranking."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._assets: dict[str, Asset] = {}
        self._table: AssetTable | None = None
        self.cursor = "0-0"  # id of the last event applied

    def load(self, assets: Iterable[Asset], cursor: str) -> None:
        """Replace everything with ``assets``, read after ``cursor`` was taken as the stream position."""
        with self._lock:
            self._assets = {a.id: a for a in assets}
            self._table = None
            self.cursor = cursor

    def apply(self, event: AssetEvent) -> bool:
        """Apply one event; events at or before the cursor are ignored (replays). True if applied."""
        with self._lock:
            if stream_id_key(event.event_id) <= stream_id_key(self.cursor):
                return False
            self.cursor = event.event_id
            self._assets[event.asset.id] = event.asset
            self._table = None
            return True

    def put(self, asset: Asset) -> None:
        """Show a change this process just wrote at once (its event, when followed, changes nothing more)."""
        with self._lock:
            self._assets[asset.id] = asset
            self._table = None

    def all(self) -> list[Asset]:
        """Every asset (a copy of the list)."""
        with self._lock:
            return list(self._assets.values())

    def get(self, asset_id: str, nation: str | None) -> Asset | None:
        """One asset, or None if there is none *or it is not released to* ``nation``."""
        asset = self._assets.get(asset_id)
        return asset if asset is not None and asset.visible_to(nation) else None

    def visible(self, nation: str | None) -> list[Asset]:
        """The assets released to ``nation`` (all of them for ``None``)."""
        return [a for a in self.all() if a.visible_to(nation)]

    def table(self) -> AssetTable:
        """Column arrays over all assets, rebuilt only after a change."""
        with self._lock:
            if self._table is None:
                self._table = AssetTable(list(self._assets.values()))
            return self._table
