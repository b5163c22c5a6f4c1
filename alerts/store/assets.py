"""Asset records in Redis and the asset events stream.

- Every asset is one field of the hash ``{p}:asset-state`` (id -> JSON).
- Every change is written by one Lua call that sets the field and appends
  ``asset.updated`` (with the whole asset) to ``{p}:assets:events`` in the
  same atomic step; dashboards follow that stream for live positions. When the
  write changes who may see the asset (its nation or ``releasable_to``), the
  entry also holds ``released_before`` (``[nation, releasable_to]`` before), so
  a live stream can withdraw it from viewers who no longer may.
- Changes that depend on the current record (a live update merged into it,
  assign, release) go through the one compare-and-set loop
  (``alerts.store.cas``): the write happens only if the record is still the
  one read, else it is read again. So an assignment and a position report
  arriving together never undo each other. The rules themselves are
  ``alerts.core.assets`` (``apply_update``, ``assigned``, ``released``).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from alerts.core.assets import Asset
from alerts.core.events import ASSET_UPDATED, AssetEvent
from alerts.store.cas import compare_and_set
from alerts.store.client import Client, text
from alerts.store.streams import check_cursor, newest_id
from alerts.store.keys import Keys

DEFAULT_EVENTS_MAXLEN = 100_000

# KEYS[1] state hash, KEYS[2] events stream; ARGV[1] maxlen, ARGV[2] kind, then (id, JSON, expected)
# triples. expected: '' = write unconditionally, '-' = only if absent, else only if the field equals it.
_PUT = """
local replies = {}
for i = 3, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local expected = ARGV[i + 2]
  local ok = expected == '' or (expected == '-' and not current) or (current and current == expected)
  if ok then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    local entry = {'kind', ARGV[2], 'asset', ARGV[i + 1]}
    if current then  -- who could see it before, when this write changes that
      local was, now = cjson.decode(current), cjson.decode(ARGV[i + 1])
      local before = cjson.encode({was['nation'], was['releasable_to']})
      if before ~= cjson.encode({now['nation'], now['releasable_to']}) then
        entry[#entry + 1] = 'released_before'
        entry[#entry + 1] = before
      end
    end
    replies[#replies + 1] = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', unpack(entry))
  else
    replies[#replies + 1] = false
  end
end
return replies
"""


def parse_asset_event(event_id: bytes | str, fields: dict) -> AssetEvent:
    """One entry of the asset events stream as an ``AssetEvent``."""
    fields = {text(k): v for k, v in fields.items()}
    before = fields.get("released_before")
    return AssetEvent(text(event_id), Asset.model_validate_json(fields["asset"]),
                      _released_before(json.loads(before)) if before else None)


def _released_before(pair: list) -> tuple[str, list[str] | None]:
    """``[nation, releasable_to]`` as the script wrote it (Lua's JSON; a null ``releasable_to``: the owner only)."""
    owner, releasable_to = pair[0], pair[1] if len(pair) > 1 else None
    return owner, releasable_to if isinstance(releasable_to, list) else None


class AssetStore:
    """Asset records (hash ``{p}:asset-state``) and their events stream (``{p}:assets:events``)."""

    def __init__(self, client: Client, keys: Keys, events_maxlen: int = DEFAULT_EVENTS_MAXLEN):
        self.client = client
        self.keys = keys
        self.events_maxlen = events_maxlen
        self._put = client.register_script(_PUT)

    # --- reading ---
    def get(self, asset_id: str) -> Asset | None:
        """One asset, or None."""
        raw = self.client.hget(self.keys.asset_state, asset_id)
        return Asset.model_validate_json(raw) if raw else None

    def all(self) -> list[Asset]:
        """Every asset."""
        return [Asset.model_validate_json(raw) for raw in self.client.hvals(self.keys.asset_state)]

    def ids(self) -> set[str]:
        """The ids of every stored asset."""
        return {text(k) for k in self.client.hkeys(self.keys.asset_state)}

    def last_event_id(self) -> str:
        """The id of the newest asset event (``0-0`` when none)."""
        return newest_id(self.client, self.keys.assets_events)

    def events_since(self, cursor: str, count: int = 10_000) -> list[AssetEvent]:
        """At most ``count`` asset events strictly after ``cursor``, oldest first; ``CursorTooOld`` as for alerts."""
        check_cursor(self.client, self.keys.assets_events, cursor)
        entries = self.client.xrange(self.keys.assets_events, min=f"({cursor}", count=count)
        return [parse_asset_event(eid, fields) for eid, fields in entries]

    # --- writing ---
    def put_many(self, assets: Iterable[Asset], expected: list[str] | None = None) -> list[str | None]:
        """Write assets (upsert); with ``expected`` (the raw record per asset), compare-and-set.

        Returns the event id of each write, None where it was refused.
        """
        assets = list(assets)
        if not assets:
            return []
        args: list = [self.events_maxlen, ASSET_UPDATED]
        for n, asset in enumerate(assets):
            args += [asset.id, asset.model_dump_json(), expected[n] if expected else ""]
        replies = self._put(keys=[self.keys.asset_state, self.keys.assets_events], args=args)
        return [text(r) if r else None for r in replies]

    def put(self, asset: Asset) -> str:
        """Write one asset; returns its event id."""
        return self.put_many([asset])[0]  # type: ignore[return-value]

    def change(self, asset_id: str, change: Callable[[Asset], Asset | None]) -> tuple[Asset, Asset] | None:
        """Apply ``change`` to the current record atomically (see ``alerts.store.cas.compare_and_set``).

        Returns ``(before, after)``; None if there is no such asset. ``change``
        may raise to refuse, or return None to leave the record as it is.
        """
        return compare_and_set(
            read=lambda: self.client.hget(self.keys.asset_state, asset_id),
            parse=Asset.model_validate_json,
            change=change,
            write=lambda after, raw: self.put_many([after], expected=[text(raw)])[0] is not None,
            what=f"asset {asset_id!r}",
        )
