"""The audit trail: every sign-in, token use and state change, appended in order to one stream.

Each entry of ``{p}:audit``: ``at`` (ISO 8601 UTC), ``actor`` (user name,
``system`` or ``cli:<os user>``), ``action`` (from the event's class, see
``alerts.core.events``), ``object`` (the event's ``subject``), ``detail``
(JSON of the event's other fields), ``ip`` (when known) and, on an entry one of
whose fields was cut, ``truncated`` = ``1``.

Bounded: every field is cut to its limit (``LIMITS``, characters) with
``TRUNCATED`` and the count of characters dropped; each string in the detail
is cut to ``DETAIL_VALUE_LIMIT`` and a detail whose JSON is still longer than
``LIMITS["detail"]`` is replaced by ``{"truncated": true, "excerpt": <its first
characters>}`` (so it stays JSON). Limits are far above what a real value
needs (user names 64, alert ids 200 characters), so only junk is ever cut.

Aggregated: ``record_first`` writes an event only the first time its subject
occurs in a clock hour (``token.use``: the first use of each token per hour).

Retention (``alerts.actions.audit_retention``) archives the oldest entries
and then trims exactly those (``oldest``, ``trim_through``), under a lock
held by one process at a time.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alerts.core.events import AuditEvent
from alerts.store.client import Client, text
from alerts.store.keys import Keys

#: Longest value of each top-level field (characters; ``detail``: its JSON).
LIMITS = {"actor": 128, "object": 512, "ip": 64, "detail": 8192}
#: Longest string inside the detail (characters), e.g. a request path.
DETAIL_VALUE_LIMIT = 2048
#: Put where a value was cut, followed by how many characters were dropped.
TRUNCATED = "…[truncated "


def cut(value: str, limit: int) -> tuple[str, bool]:
    """``value`` cut to at most ``limit`` characters, ending ``…[truncated N]`` when cut; and whether it was."""
    if len(value) <= limit:
        return value, False
    mark = f"{TRUNCATED}{len(value) - limit}]"
    return value[: max(limit - len(mark), 0)] + mark, True


def _bounded_detail(detail) -> tuple[object, bool]:
    """The detail with every string cut to ``DETAIL_VALUE_LIMIT`` (recursively); and whether anything was."""
    if isinstance(detail, str):
        return cut(detail, DETAIL_VALUE_LIMIT)
    if isinstance(detail, dict):
        pairs = [(_bounded_detail(str(k)), _bounded_detail(v)) for k, v in detail.items()]
        return {k: v for (k, _), (v, _) in pairs}, any(a or b for (_, a), (_, b) in pairs)
    if isinstance(detail, (list, tuple, set, frozenset)):
        items = [_bounded_detail(v) for v in detail]
        return [v for v, _ in items], any(c for _, c in items)
    return detail, False


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
    truncated: bool = False


class AuditLog:
    """The audit stream ``{p}:audit``; the clock (UTC) is injectable."""

    def __init__(self, client: Client, keys: Keys, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client = client
        self.keys = keys
        self.clock = clock

    def record(self, actor: str, event: AuditEvent, ip: str = "") -> str:
        """Append what ``actor`` did (``event``), from ``ip``, every field bounded (module docstring);
        returns the entry id."""
        detail, cut_detail = _bounded_detail(event.detail())
        encoded = json.dumps(detail, sort_keys=True, default=str)
        if len(encoded) > LIMITS["detail"]:
            excerpt, _ = cut(encoded, LIMITS["detail"] // 2)
            encoded, cut_detail = json.dumps({"truncated": True, "excerpt": excerpt}), True
        actor, cut_actor = cut(actor, LIMITS["actor"])
        subject, cut_object = cut(event.subject, LIMITS["object"])
        ip, cut_ip = cut(ip, LIMITS["ip"])
        fields = {"at": self.clock().isoformat(), "actor": actor, "action": type(event).action,
                  "object": subject, "detail": encoded, "ip": ip}
        if cut_detail or cut_actor or cut_object or cut_ip:
            fields["truncated"] = "1"
        return text(self.client.xadd(self.keys.audit, fields))

    def record_first(self, actor: str, event: AuditEvent, ip: str = "", *, per: str, period: int = 3600
                     ) -> str | None:
        """``record`` only the first event of ``per`` (e.g. a token id) in each ``period`` seconds of the clock
        (aligned: clock hours by default); returns the entry id, or None when this one was left out."""
        if not self.claim_first(per, period):
            return None
        return self.record(actor, event, ip)

    def claim_first(self, per: str, period: int = 3600) -> bool:
        """Whether this is the first call for ``per`` in its ``period`` seconds of the clock (aligned), which
        ``record_first`` then records; for a caller that writes the entry later (``record``), when it knows
        what to write."""
        bucket = int(self.clock().timestamp() // period)
        return bool(self.client.set(self.keys.audit_first(per, bucket), "1", nx=True, ex=2 * period))

    def record_counted(self, actor: str, event: Callable[[int], AuditEvent], ip: str = "", *, per: str,
                       period: int = 60) -> str | None:
        """Count an event of ``per`` in its ``period`` (seconds of the clock, aligned; a minute by default) and
        ``record`` only the first of each period: ``event(n)`` builds it, ``n`` being how many were counted in
        the period before (0: none). Returns the entry id, or None when this one was only counted. The counts
        live ``2 * period`` seconds (``Keys.audit_first``)."""
        bucket = int(self.clock().timestamp() // period)
        key = self.keys.audit_first(per, bucket)
        pipe = self.client.pipeline(transaction=True)  # explicit: a cluster pipeline is not one by default
        pipe.incr(key)
        pipe.expire(key, 2 * period)
        pipe.get(self.keys.audit_first(per, bucket - 1))
        seen, _, before = pipe.execute()
        if int(seen) != 1:
            return None
        return self.record(actor, event(int(before or 0)), ip)

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

    def read_range(self, low: str = "-", high: str = "+") -> list[AuditEntry]:
        """The entries from stream id ``low`` to ``high`` (both included; ``-``/``+`` for the ends), oldest
        first (``XRANGE``): what an exercise's evaluation reads, STARTEX to ENDEX."""
        return [self._entry(eid, fields) for eid, fields in self.client.xrange(self.keys.audit, min=low, max=high)]

    # retention -----------------------------------------------------------------------------
    def length(self) -> int:
        """How many entries the stream holds."""
        return int(self.client.xlen(self.keys.audit))

    def oldest(self, count: int) -> list[AuditEntry]:
        """The ``count`` oldest entries, oldest first."""
        return [self._entry(eid, fields) for eid, fields in self.client.xrange(self.keys.audit, count=count)]

    def trim_through(self, entry_id: str) -> int:
        """Remove every entry up to and including ``entry_id`` (exactly, ``XTRIM MINID``); returns how many."""
        millis, _, seq = entry_id.partition("-")
        return int(self.client.xtrim(self.keys.audit, minid=f"{millis}-{int(seq or 0) + 1}", approximate=False))

    def lock(self, seconds: int) -> str | None:
        """Take the retention lock for ``seconds``: a token to ``unlock`` with, or None if another holds it."""
        token = secrets.token_hex(8)
        return token if self.client.set(self.keys.audit_retention_lock, token, nx=True, ex=seconds) else None

    def unlock(self, token: str) -> None:
        """Give the retention lock back, if ``token`` still holds it."""
        if text(self.client.get(self.keys.audit_retention_lock) or b"") == token:
            self.client.delete(self.keys.audit_retention_lock)

    @staticmethod
    def _entry(entry_id, fields) -> AuditEntry:
        f = {text(k): text(v) for k, v in fields.items()}
        return AuditEntry(text(entry_id), f["at"], f["actor"], f["action"], f.get("object", ""),
                          json.loads(f.get("detail") or "{}"), f.get("ip", ""), f.get("truncated") == "1")
