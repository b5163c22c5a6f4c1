"""Durable alert records in Redis, and the events stream that announces them.

Guarantees:
- ``record`` is exactly-once per producer identity across any number of
  processes (``alerts.store.identities``): one Lua call decides each alert's
  key, stores it and, in the same atomic step, appends ``alert.created`` to
  the events stream. The same identity again changes nothing and reports a
  duplicate; a different identity never overwrites another alert.
- ``change`` rewrites a stored alert through the one compare-and-set loop
  (``alerts.store.cas``) and appends ``alert.updated`` in the same atomic
  step as the write; a concurrent writer makes it read again, never lose a change.
- The events stream is ordered; its ids are the cursors clients resume from.
  It is trimmed approximately to ``events_maxlen``; a client whose cursor has
  been trimmed away must reload the whole picture (``events_since`` raises
  ``CursorTooOld``). Alert records themselves are never trimmed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from alerts.core.events import ALERT_CREATED, ALERT_ROUTED, ALERT_UPDATED, AlertEvent
from alerts.core.identity import renewable
from alerts.core.model import Routing, StoredAlert
from alerts.store import identities
from alerts.store.cas import compare_and_set
from alerts.store.client import Client, text
from alerts.store.streams import check_cursor, newest_id
from alerts.store.identities import Recordable, RecordResult
from alerts.store.keys import Keys

DEFAULT_EVENTS_MAXLEN = 200_000

# KEYS[1] the alert, KEYS[2] the events stream. ARGV[4], when not empty, is the exact
# record expected in place (compare-and-set); ARGV[5], when not empty, the previous routing
# (JSON) that an alert.routed event carries.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 1 and (ARGV[4] == '' or redis.call('GET', KEYS[1]) == ARGV[4]) then
  redis.call('SET', KEYS[1], ARGV[1])
  if ARGV[5] ~= '' then
    return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'kind', ARGV[3], 'alert', ARGV[1],
                      'previous', ARGV[5])
  end
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'kind', ARGV[3], 'alert', ARGV[1])
end
return false
"""


def parse_event(event_id: bytes | str, fields: dict) -> AlertEvent:
    """One entry of the events stream (``kind``, ``alert`` JSON, ``previous`` routing JSON) as an ``AlertEvent``."""
    fields = {text(k): v for k, v in fields.items()}
    previous = fields.get("previous")
    return AlertEvent(event_id=text(event_id), kind=text(fields["kind"]),
                      alert=StoredAlert.from_json(fields["alert"]),
                      previous=Routing.model_validate_json(previous) if previous else None)


class AlertStore:
    """Alert records (``Keys.alert``) and the events stream (``Keys.events``)."""

    def __init__(self, client: Client, keys: Keys, events_maxlen: int = DEFAULT_EVENTS_MAXLEN):
        self.client = client
        self.keys = keys
        self.events_maxlen = events_maxlen
        self._record = client.register_script(identities.RECORD)
        self._reference = client.register_script(identities.REFERENCE)
        self._update = client.register_script(_UPDATE)

    def record_many(self, alerts: Iterable[StoredAlert]) -> list[RecordResult]:
        """Record each alert once per identity, in one atomic script call for the whole batch."""
        return self.record_encoded([recordable(stored, stored.model_dump_json(exclude={"key"}).encode())
                                    for stored in alerts])

    def record_encoded(self, items: list[Recordable]) -> list[RecordResult]:
        """``record_many`` for alerts already serialised (see ``recordable``).

        The keys each alert touches are built in the script from prefixes, not
        passed as KEYS, so this needs every key of a prefix on one node (true
        of a single Redis or Valkey server).
        """
        return identities.record(self.client, self.keys, self._record, items, self.events_maxlen, ALERT_CREATED)

    def record_encoded_sent(self, items: list[Recordable]) -> identities.SentRecord | None:
        """``record_encoded`` with its first call sent now and read by ``SentRecord.result`` later, so the
        caller works while Redis records; None when it cannot be sent ahead (call ``record_encoded``): a cluster
        client, or a subclass that records its own way."""
        if type(self).record_encoded is not AlertStore.record_encoded:
            return None
        return identities.record_sent(self.client, self.keys, self._record, items, self.events_maxlen, ALERT_CREATED)

    def record(self, stored: StoredAlert) -> RecordResult:
        """``record_many`` for one alert."""
        return self.record_many([stored])[0]

    def resolve_references(self, pairs: list[tuple[str, dict]], now_epoch: float) -> list[str | None]:
        """Per ``(identity, {"by": key, "at": epoch})``: the key of the alert the identity names, or None
        when there is none yet (the reference is then kept and returned by ``record`` on its arrival)."""
        return identities.reference(self.client, self.keys, self._reference, pairs, now_epoch)

    def forget_pending(self, identity: str) -> None:
        """Drop the kept references of ``identity`` once applied."""
        identities.forget_pending(self.client, self.keys, identity)

    def update(self, stored: StoredAlert, expected: bytes | str | None = None,
               previous: Routing | None = None) -> str | None:
        """Replace a stored alert; returns the event id, or None if it never existed (or, with
        ``expected``, if the record is no longer exactly that). The event is ``alert.updated``, or
        ``alert.routed`` carrying ``previous`` when the routing changed."""
        rerouted = previous is not None and previous != stored.routing
        reply = self._update(
            keys=[self.keys.alert(stored.id), self.keys.events],
            args=[stored.model_dump_json(), self.events_maxlen, ALERT_ROUTED if rerouted else ALERT_UPDATED,
                  expected or "", previous.model_dump_json() if rerouted else ""],
        )
        return text(reply) if reply else None

    def change(self, alert_id: str, change: Callable[[StoredAlert], StoredAlert | None]
               ) -> tuple[StoredAlert, StoredAlert] | None:
        """Apply ``change`` to the stored alert atomically (see ``alerts.store.cas.compare_and_set``);
        a change of its routing is announced as ``alert.routed`` with the routing before."""
        def write(after: StoredAlert, raw: bytes) -> bool:
            before = StoredAlert.from_json(raw)
            return self.update(after, expected=raw, previous=before.routing) is not None

        return compare_and_set(
            read=lambda: self.client.get(self.keys.alert(alert_id)),
            parse=StoredAlert.from_json,
            change=change,
            write=write,
            what=f"alert {alert_id!r}",
        )

    def get(self, alert_id: str) -> StoredAlert | None:
        """One stored alert, or None."""
        raw = self.client.get(self.keys.alert(alert_id))
        return StoredAlert.from_json(raw) if raw else None

    def get_many(self, alert_ids: list[str]) -> list[StoredAlert | None]:
        """Stored alerts in the order asked (None where there is none), in one round trip."""
        if not alert_ids:
            return []
        raws = self.client.mget([self.keys.alert(i) for i in alert_ids])
        return [StoredAlert.from_json(r) if r else None for r in raws]

    def all_alerts(self, batch: int = 1000) -> Iterator[StoredAlert]:
        """Every stored alert, in no particular order (for rebuilding a read model at start-up)."""
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
                    yield StoredAlert.from_json(raw)

    def last_event_id(self) -> str:
        """The id of the newest entry of the events stream (``0-0`` when empty)."""
        return newest_id(self.client, self.keys.events)

    def events_since(self, cursor: str, count: int = 10_000) -> list[AlertEvent]:
        """At most ``count`` events strictly after ``cursor``, oldest first; ``CursorTooOld`` (``check_cursor``)."""
        check_cursor(self.client, self.keys.events, cursor)
        entries = self.client.xrange(self.keys.events, min=f"({cursor}", count=count)
        return [parse_event(eid, fields) for eid, fields in entries]


def recordable(stored: StoredAlert, raw: bytes) -> Recordable:
    """What ``record_encoded`` needs of one alert; ``raw`` is its JSON without ``key``."""
    alert = stored.alert
    expiry = stored.expires_at.timestamp() if stored.expires_at else None
    if renewable(alert):
        return Recordable(alert.id, stored.identity, raw, f"{stored.identity}@{alert.reported_at.isoformat()}",
                          alert.reported_at.timestamp(), expiry)
    return Recordable(alert.id, stored.identity, raw, expiry_epoch=expiry)
