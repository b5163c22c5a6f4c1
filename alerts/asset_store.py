"""Asset records in Redis and the asset events stream (Redis adapter of ``alerts.assets``).

- Every asset is one field of the hash ``{p}:asset-state`` (id -> JSON).
- Every change is written by one Lua call that sets the field and appends
  ``asset.updated`` (with the whole asset) to ``{p}:assets:events`` in the
  same atomic step; dashboards follow that stream for live positions.
- Changes that depend on the current record (a live update merged into it,
  assign, release) are compare-and-set: the write happens only if the record
  is still the one read, else it is read again and retried. So an assignment
  and a position report arriving together never undo each other.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import redis

from alerts.assets import Asset, AssetStatus
from alerts.keys import Keys

ASSET_UPDATED = "asset.updated"
DEFAULT_EVENTS_MAXLEN = 100_000

# KEYS[1] state hash, KEYS[2] events stream; ARGV[1] maxlen, then (id, JSON, expected) triples.
# expected: '' = write unconditionally, '-' = only if absent, else only if the field equals it.
_PUT = """
local replies = {}
for i = 2, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local expected = ARGV[i + 2]
  local ok = expected == '' or (expected == '-' and not current) or (current and current == expected)
  if ok then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    replies[#replies + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*',
                                       'kind', 'asset.updated', 'asset', ARGV[i + 1])
  else
    replies[#replies + 1] = false
  end
end
return replies
"""


class NotReady(Exception):
    """The asset cannot be assigned: it is not ready."""


class NotAssigned(Exception):
    """The asset is not assigned to that incident."""


@dataclass(frozen=True)
class AssetEvent:
    event_id: str
    asset: Asset


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse_asset_event(event_id, fields: dict) -> AssetEvent:
    fields = {_text(k): v for k, v in fields.items()}
    return AssetEvent(_text(event_id), Asset.model_validate_json(fields["asset"]))


class AssetStore:
    def __init__(self, client: redis.Redis, keys: Keys, events_maxlen: int = DEFAULT_EVENTS_MAXLEN):
        self.client = client
        self.keys = keys
        self.events_maxlen = events_maxlen
        self._put = client.register_script(_PUT)

    # --- reading ---
    def get_raw(self, asset_id: str) -> bytes | None:
        return self.client.hget(self.keys.asset_state, asset_id)

    def get(self, asset_id: str) -> Asset | None:
        raw = self.get_raw(asset_id)
        return Asset.model_validate_json(raw) if raw else None

    def all(self) -> list[Asset]:
        return [Asset.model_validate_json(raw) for raw in self.client.hvals(self.keys.asset_state)]

    def last_event_id(self) -> str:
        newest = self.client.xrevrange(self.keys.assets_events, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    def events_since(self, cursor: str, count: int = 10_000) -> list[AssetEvent]:
        entries = self.client.xrange(self.keys.assets_events, min=f"({cursor}", count=count)
        return [parse_asset_event(eid, fields) for eid, fields in entries]

    # --- writing ---
    def put_many(self, assets: Iterable[Asset], expected: list[str] | None = None) -> list[str | None]:
        """Write assets (upsert); with ``expected`` per asset, compare-and-set. Event ids, None where refused."""
        assets = list(assets)
        if not assets:
            return []
        args: list = [self.events_maxlen]
        for n, asset in enumerate(assets):
            args += [asset.id, asset.model_dump_json(), expected[n] if expected else ""]
        replies = self._put(keys=[self.keys.asset_state, self.keys.assets_events], args=args)
        return [_text(r) if r else None for r in replies]

    def put(self, asset: Asset) -> str:
        return self.put_many([asset])[0]  # type: ignore[return-value]

    def change(self, asset_id: str, change: Callable[[Asset], Asset | None], attempts: int = 20
               ) -> tuple[Asset, Asset] | None:
        """Apply ``change`` to the current record atomically (retried on a race).

        Returns (before, after); None if there is no such asset. ``change`` may
        raise to refuse, or return None to leave the record as it is.
        """
        for _ in range(attempts):
            raw = self.get_raw(asset_id)
            if raw is None:
                return None
            before = Asset.model_validate_json(raw)
            after = change(before)
            if after is None:
                return before, before
            if self.put_many([after], expected=[_text(raw)])[0] is not None:
                return before, after
        raise RuntimeError(f"asset {asset_id!r} kept changing; gave up after {attempts} attempts")

    def assign(self, asset_id: str, alert_id: str, at) -> tuple[Asset, Asset] | None:
        def change(asset: Asset) -> Asset:
            if asset.status is not AssetStatus.READY or asset.assigned_to is not None:
                raise NotReady(f"asset {asset.id!r} is {asset.status.value}"
                               + (f" (assigned to {asset.assigned_to!r})" if asset.assigned_to else ""))
            return asset.model_copy(update={"status": AssetStatus.COMMITTED, "assigned_to": alert_id,
                                            "updated_at": max(at, asset.updated_at)})
        return self.change(asset_id, change)

    def release(self, asset_id: str, alert_id: str, at) -> tuple[Asset, Asset] | None:
        def change(asset: Asset) -> Asset:
            if asset.assigned_to != alert_id:
                raise NotAssigned(f"asset {asset.id!r} is not assigned to {alert_id!r}")
            return asset.model_copy(update={"status": AssetStatus.READY, "assigned_to": None,
                                            "updated_at": max(at, asset.updated_at)})
        return self.change(asset_id, change)
