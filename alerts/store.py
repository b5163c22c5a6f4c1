"""Durable alert records in Redis, and the events stream that announces them.

Guarantees:
- ``record`` is exactly-once per alert id across any number of processes: one
  Lua call stores the alert only if its key is new and, in the same atomic
  step, appends ``alert.created`` to the events stream. A repeated id changes
  nothing and reports a duplicate.
- ``update`` rewrites a stored alert and appends ``alert.updated`` atomically
  (optionally only if the record is still the one the caller read).
- The events stream is ordered; its ids are the cursors clients resume from.
  It is trimmed approximately to ``events_maxlen``; a client whose cursor has
  been trimmed away reloads the whole picture (``events_since`` says so by
  raising ``CursorTooOld``). Alert records themselves are never trimmed.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import redis

from alerts.events import ALERT_CREATED, ALERT_UPDATED, AlertEvent, stream_id_key
from alerts.keys import Keys
from alerts.model import StoredAlert

DEFAULT_EVENTS_MAXLEN = 200_000

# KEYS[1] events stream; ARGV[1] maxlen, ARGV[2] kind, then (alert key, alert JSON) pairs.
# Returns, per alert, the new event id or false for an id already recorded.
_RECORD = """
local replies = {}
for i = 3, #ARGV, 2 do
  if redis.call('SET', ARGV[i], ARGV[i + 1], 'NX') then
    replies[#replies + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
                                       'kind', ARGV[2], 'alert', ARGV[i + 1])
  else
    replies[#replies + 1] = false
  end
end
return replies
"""

# ARGV[4], when not empty, is the exact record expected in place (compare-and-set).
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 1 and (ARGV[4] == '' or redis.call('GET', KEYS[1]) == ARGV[4]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'kind', ARGV[3], 'alert', ARGV[1])
end
return false
"""


class CursorTooOld(Exception):
    """The events after this cursor were trimmed; reload everything instead."""


@dataclass(frozen=True)
class RecordResult:
    alert_id: str
    event_id: str | None  # None: the id was already recorded

    @property
    def duplicate(self) -> bool:
        return self.event_id is None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse_event(event_id: bytes | str, fields: dict) -> AlertEvent:
    fields = {_text(k): v for k, v in fields.items()}
    return AlertEvent(
        event_id=_text(event_id),
        kind=_text(fields["kind"]),
        alert=StoredAlert.model_validate_json(fields["alert"]),
    )


class AlertStore:
    """Alert records and the events stream (synchronous client)."""

    def __init__(self, client: redis.Redis, keys: Keys, events_maxlen: int = DEFAULT_EVENTS_MAXLEN):
        self.client = client
        self.keys = keys
        self.events_maxlen = events_maxlen
        self._record = client.register_script(_RECORD)
        self._update = client.register_script(_UPDATE)

    def record_many(self, alerts: Iterable[StoredAlert]) -> list[RecordResult]:
        """Record each alert once; one atomic script call for the whole batch.

        The alert keys are passed as arguments, not KEYS, so this needs every
        key of a prefix on one node (true of a single Redis or Valkey server).
        """
        alerts = list(alerts)
        if not alerts:
            return []
        args: list = [self.events_maxlen, ALERT_CREATED]
        for stored in alerts:
            args += [self.keys.alert(stored.id), stored.model_dump_json()]
        replies = self._record(keys=[self.keys.events], args=args)
        return [
            RecordResult(stored.id, _text(reply) if reply else None)
            for stored, reply in zip(alerts, replies)
        ]

    def record(self, stored: StoredAlert) -> RecordResult:
        return self.record_many([stored])[0]

    def update(self, stored: StoredAlert, expected: bytes | str | None = None) -> str | None:
        """Replace a stored alert; returns the event id, or None if it never existed.

        With ``expected`` (the record as read before), only if it is still exactly
        that record; None otherwise, so the caller reads again and retries.
        """
        reply = self._update(
            keys=[self.keys.alert(stored.id), self.keys.events],
            args=[stored.model_dump_json(), self.events_maxlen, ALERT_UPDATED, expected or ""],
        )
        return _text(reply) if reply else None

    def get(self, alert_id: str) -> StoredAlert | None:
        raw = self.client.get(self.keys.alert(alert_id))
        return StoredAlert.model_validate_json(raw) if raw else None

    def get_many(self, alert_ids: list[str]) -> list[StoredAlert | None]:
        if not alert_ids:
            return []
        raws = self.client.mget([self.keys.alert(i) for i in alert_ids])
        return [StoredAlert.model_validate_json(r) if r else None for r in raws]

    def all_alerts(self, batch: int = 1000) -> Iterator[StoredAlert]:
        """Every stored alert (for rebuilding a read model at start-up)."""
        keys: list[bytes] = []
        for key in self.client.scan_iter(match=self.keys.alert_pattern, count=batch):
            keys.append(key)
            if len(keys) >= batch:
                yield from self._load(keys)
                keys = []
        yield from self._load(keys)

    def _load(self, keys: list) -> Iterator[StoredAlert]:
        if keys:
            for raw in self.client.mget(keys):
                if raw:
                    yield StoredAlert.model_validate_json(raw)

    def last_event_id(self) -> str:
        newest = self.client.xrevrange(self.keys.events, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    def events_since(self, cursor: str, count: int = 10_000) -> list[AlertEvent]:
        """Events strictly after ``cursor``, oldest first."""
        if cursor not in ("0", "0-0"):
            oldest = self.client.xrange(self.keys.events, count=1)
            if oldest and stream_id_key(_text(oldest[0][0])) > stream_id_key(cursor):
                raise CursorTooOld(cursor)  # entries after the cursor were trimmed
        entries = self.client.xrange(self.keys.events, min=f"({cursor}", count=count)
        return [parse_event(eid, fields) for eid, fields in entries]
