"""Reading the centre's one record (``alerts.core.record``) from its three streams, and archiving them.

The record is derived from ``{p}:events``, ``{p}:assets:events`` and ``{p}:audit`` (why: the
``alerts.core.record`` docstring). ``read`` returns the events of each stream after a cursor, parsed into
``RecordEvent``; ``RecordStreams.streams`` names the three keys.

Archive: ``archive_cursor`` / ``set_archive_cursor`` keep, per stream, the id of the newest entry already
copied to the archive files (``{p}:record:archived`` hash), so the retention job copies each entry once and
trims only what it has copied (``alerts.actions.record_retention``).
"""
from __future__ import annotations

import json
import sys
from datetime import datetime

from alerts.core.assets import Asset
from alerts.core.model import Routing, StoredAlert
from alerts.core.packing import pack
from alerts.core.record import RECORDED_ACTIONS, STREAMS, RecordEvent
from alerts.store.client import Client, text
from alerts.store.keys import Keys

#: Entries read per round trip.
BATCH = 5000
#: Distinct routings ``routing_of`` keeps as one object each before it starts afresh.
ROUTINGS_MOST = 10_000
_routings: dict[str, Routing] = {}


class RecordStreams:
    """The three streams of the record (``STREAMS`` order: alerts, assets, audit)."""

    def __init__(self, client: Client, keys: Keys):
        self.client = client
        self.keys = keys
        self.streams = {"alerts": keys.events, "assets": keys.assets_events, "audit": keys.audit}

    def read(self, stream: str, after: str = "0-0", until: str = "+", batch: int = BATCH
             ) -> tuple[list[RecordEvent], str]:
        """The record's events of ``stream`` (one of ``STREAMS``) strictly after ``after`` up to ``until``
        (a stream id, inclusive, or ``+``), oldest first (audit entries that are no state change left out),
        and the id of the last entry read (``after`` when none): where the next read goes on."""
        found: list[RecordEvent] = []
        last = after
        for entry_id, fields in self.raw(stream, after, until, batch):
            last = text(entry_id)
            event = parse(stream, entry_id, fields)
            if event is not None:
                found.append(event)
        return found, last

    def raw(self, stream: str, after: str = "0-0", until: str = "+", batch: int = BATCH):
        """``(id, fields)`` of ``stream`` strictly after ``after`` up to ``until``, oldest first, unparsed."""
        key, cursor = self.streams[stream], after
        while True:
            entries = self.client.xrange(key, min=f"({cursor}", max=until, count=batch)
            yield from entries
            if len(entries) < batch:
                return
            cursor = text(entries[-1][0])

    def oldest_id(self, stream: str) -> str | None:
        """The id of the oldest entry still in ``stream``, or None when it is empty."""
        first = self.client.xrange(self.streams[stream], count=1)
        return text(first[0][0]) if first else None

    def newest_ids(self) -> dict[str, str]:
        """Per stream, the id of its newest entry (``0-0`` when empty), in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for name in STREAMS:
            pipe.xrevrange(self.streams[name], count=1)
        return {name: text(r[0][0]) if r else "0-0" for name, r in zip(STREAMS, pipe.execute())}

    def trim_before(self, stream: str, min_id: str) -> int:
        """Remove the entries of ``stream`` older than ``min_id`` (exactly, ``XTRIM MINID``); how many."""
        return int(self.client.xtrim(self.streams[stream], minid=min_id, approximate=False))

    def archive_cursor(self, stream: str) -> str:
        """The newest id of ``stream`` copied to the archive (``0-0``: none)."""
        return text(self.client.hget(self.keys.record_archived, stream) or b"0-0")

    def set_archive_cursor(self, stream: str, entry_id: str) -> None:
        """Remember that ``stream`` is archived up to ``entry_id``."""
        self.client.hset(self.keys.record_archived, stream, entry_id)

    def lock(self, token: str, seconds: int) -> bool:
        """Take the archive lock for ``seconds`` under ``token``; False if another process holds it."""
        return bool(self.client.set(self.keys.record_archive_lock, token, nx=True, ex=seconds))

    def unlock(self, token: str) -> None:
        """Give the archive lock back, if ``token`` still holds it."""
        if text(self.client.get(self.keys.record_archive_lock) or b"") == token:
            self.client.delete(self.keys.record_archive_lock)


def fields_json(fields: dict) -> dict[str, str]:
    """A stream entry's fields as text (for the archive files)."""
    return {text(k): text(v) for k, v in fields.items()}


def parse(stream: str, entry_id, fields: dict) -> RecordEvent | None:
    """One stream entry as a ``RecordEvent``; None for an audit entry that is not a state change. An alert
    event keeps its record as the JSON stored, packed (``RecordEvent.record``, ``alerts.core.packing``), its id and
    routing read from it."""
    f = {text(k): v for k, v in fields.items()}
    eid = text(entry_id)
    if stream == "alerts":
        previous = f.get("previous")
        record = f["alert"] if isinstance(f["alert"], bytes) else f["alert"].encode("utf-8")
        document = json.loads(record)
        return RecordEvent(eid, stream, sys.intern(text(f["kind"])),
                           object=document.get("key") or document["alert"]["id"], packed=pack(record),
                           routing=routing_of(document, record),
                           previous=Routing.model_validate_json(previous) if previous else None,
                           reported=datetime.fromisoformat(document["alert"]["reported_at"]).timestamp())
    if stream == "assets":
        asset = Asset.model_validate_json(f["asset"])
        return RecordEvent(eid, stream, text(f.get("kind", b"asset.updated")), object=asset.id, asset=asset)
    action = text(f.get("action", b""))
    if action not in RECORDED_ACTIONS:
        return None
    detail = json.loads(text(f.get("detail") or b"{}"))
    detail = detail if isinstance(detail, dict) else {}
    detail["at"] = text(f.get("at", b""))
    return RecordEvent(eid, stream, sys.intern(action), actor=text(f.get("actor", b"")),
                       object=text(f.get("object", b"")), detail=detail)


def routing_of(document: dict, record: bytes) -> Routing:
    """The routing of a stored alert's record (``document``: its JSON ``record`` parsed), one object for equal
    routings (most alerts share a few); a record stored before routing existed gets its legacy routing
    (``StoredAlert``, ``alerts.core.model.legacy_routing``)."""
    given = document.get("routing")
    if not isinstance(given, dict):
        return StoredAlert.from_json(record).routing
    canonical = json.dumps(given, sort_keys=True)
    routing = _routings.get(canonical)
    if routing is None:
        if len(_routings) >= ROUTINGS_MOST:
            _routings.clear()
        routing = _routings[canonical] = Routing.model_validate(given)
    return routing
