"""The audit trail: every sign-in, token use and state change, appended in order to one stream.

Each entry of ``{p}:audit``: ``at`` (ISO 8601 UTC), ``actor`` (user name,
``system`` or ``cli:<os user>``), ``action`` (from the event's class, see
``alerts.core.events``), ``object`` (the event's ``subject``), ``detail``
(JSON of the event's other fields) and ``ip`` (when known). Entries are never
trimmed by the app.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.core.events import AuditEvent
from alerts.store.client import Client, text
from alerts.store.keys import Keys


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit trail, as read back."""

    entry_id: str
    at: str
    actor: str
    action: str
    object: str
    detail: dict
    ip: str


class AuditLog:
    """The audit stream ``{p}:audit``; the clock (UTC) is injectable."""

    def __init__(self, client: Client, keys: Keys, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client = client
        self.keys = keys
        self.clock = clock

    def record(self, actor: str, event: AuditEvent, ip: str = "") -> str:
        """Append what ``actor`` did (``event``), from ``ip``; returns the entry id."""
        entry_id = self.client.xadd(self.keys.audit, {
            "at": self.clock().isoformat(),
            "actor": actor,
            "action": type(event).action,
            "object": event.subject,
            "detail": json.dumps(event.detail(), sort_keys=True, default=str),
            "ip": ip,
        })
        return text(entry_id)

    def read(self, count: int = 200, before: str = "+") -> list[AuditEntry]:
        """At most ``count`` entries up to ``before``, newest first: ``+`` for the newest, a stream id
        (that entry included) or ``(<stream id>`` (excluded: where the previous page ended).

        Unfiltered: readers go through ``alerts.actions.audit.audit_entries``, which decides what each may see.
        """
        entries = self.client.xrevrange(self.keys.audit, max=before, count=count)
        return [self._entry(eid, fields) for eid, fields in entries]

    def read_all(self) -> list[AuditEntry]:
        """Every entry, oldest first."""
        return [self._entry(eid, fields) for eid, fields in self.client.xrange(self.keys.audit)]

    @staticmethod
    def _entry(entry_id, fields) -> AuditEntry:
        f = {text(k): text(v) for k, v in fields.items()}
        return AuditEntry(text(entry_id), f["at"], f["actor"], f["action"], f.get("object", ""),
                          json.loads(f.get("detail") or "{}"), f.get("ip", ""))
