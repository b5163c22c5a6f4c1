"""The audit trail: every sign-in, token use and state change, appended in order to one stream.

Each entry: ``at`` (ISO 8601 UTC), ``actor`` (user name or ``system``),
``action`` (e.g. ``login.success``, ``user.add``, ``alert.acknowledge``),
``object`` (what it acted on), ``detail`` (JSON), ``ip`` (when known).
Entries are never trimmed by the app.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from alerts.keys import Keys


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: str
    actor: str
    action: str
    object: str
    detail: dict
    ip: str


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class AuditLog:
    def __init__(self, client: redis.Redis, keys: Keys, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client = client
        self.keys = keys
        self.clock = clock

    def append(self, actor: str, action: str, object_: str = "", detail: dict | None = None, ip: str = "") -> str:
        entry_id = self.client.xadd(self.keys.audit, {
            "at": self.clock().isoformat(),
            "actor": actor,
            "action": action,
            "object": object_,
            "detail": json.dumps(detail or {}, sort_keys=True),
            "ip": ip,
        })
        return _text(entry_id)

    def read(self, count: int = 200, before: str = "+") -> list[AuditEntry]:
        """Newest first."""
        entries = self.client.xrevrange(self.keys.audit, max=before, count=count)
        return [self._entry(eid, fields) for eid, fields in entries]

    def read_all(self) -> list[AuditEntry]:
        """Oldest first."""
        return [self._entry(eid, fields) for eid, fields in self.client.xrange(self.keys.audit)]

    @staticmethod
    def _entry(entry_id, fields) -> AuditEntry:
        f = {_text(k): _text(v) for k, v in fields.items()}
        return AuditEntry(_text(entry_id), f["at"], f["actor"], f["action"], f.get("object", ""),
                          json.loads(f.get("detail") or "{}"), f.get("ip", ""))
