"""The response to each alert, kept in Redis: its checklist, acknowledgment, steps done, resolution, escalation.

Guarantees (every key name is in ``alerts.keys``):

- **One checklist per alert**, however many ingest workers or server processes
  run: ``open_checklists`` creates each checklist only if it has none, inside
  one Lua call that also adds the alert to the open cases, so a replayed or
  duplicated alert, or two workers racing, create it once. Its steps are fixed
  then (``alerts.checklists``); their due times count from the stored alert's
  ``received_at``, whichever worker created it.
- **One acknowledgment per alert**: ``HSETNX`` in a Lua script that returns the
  existing ``{by, at}`` to everyone after the first, atomically across processes.
- **Each step done once** (``HSETNX`` per step); **one resolution** (``HSETNX``).
- **Escalation levels only go up, once each**: a Lua script records the level
  and PUBLISHes the message only if that level was not reached yet (and, for an
  unacknowledged alert, only if it is still unacknowledged and unresolved).
- The alert's status (``new`` -> ``acknowledged`` -> ``in_progress`` ->
  ``resolved``) is advanced on its stored record through ``AlertStore.update``
  with compare-and-set, so the read models and live streams learn it and
  concurrent changes never move it back (``alerts.lifecycle``).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis

from alerts.audit import AuditLog
from alerts.checklists import ChecklistStep, Templates
from alerts.escalation import MAX_LEVEL, UNACKNOWLEDGED, Case, Escalation, StepState
from alerts.keys import Keys
from alerts.lifecycle import advanced
from alerts.model import Severity, Status, StoredAlert
from alerts.store import AlertStore

Clock = Callable[[], datetime]
_CHUNK = 500

# KEYS[1] open-cases set; ARGV: (checklist key, alert key, alert id, checklist JSON) quadruples.
# The checklist's clock starts at the *stored* alert's received_at, read here: a worker that
# handled a duplicate copy of the alert (received a moment later) opens the same checklist.
# Returns 1/0 per alert (0: it had one already, or the alert is not stored).
_CREATE = """
local created = {}
for i = 1, #ARGV, 4 do
  local made = 0
  if redis.call('EXISTS', ARGV[i]) == 0 then
    local raw = redis.call('GET', ARGV[i + 1])
    if raw then
      local received_at = cjson.decode(raw)['received_at']
      redis.call('SET', ARGV[i], '{"received_at":' .. cjson.encode(received_at) .. ',' .. string.sub(ARGV[i + 3], 2))
      redis.call('SADD', KEYS[1], ARGV[i + 2])
      made = 1
    end
  end
  created[#created + 1] = made
end
return created
"""

# KEYS[1] acks hash; ARGV[1] alert id, ARGV[2] {by, at}. Returns {1, mine} or {0, the first one}.
_ACK = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  return {1, ARGV[2]}
end
return {0, redis.call('HGET', KEYS[1], ARGV[1])}
"""

# KEYS[1] escalation hash, KEYS[2] acks hash, KEYS[3] resolutions hash;
# ARGV[1] alert id, ARGV[2] level, ARGV[3] record JSON, ARGV[4] message JSON,
# ARGV[5] '1' if the cause is "not acknowledged", ARGV[6] the channel.
_ESCALATE = """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
if ARGV[5] == '1' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and tonumber(cjson.decode(current)['level']) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', ARGV[6], ARGV[4])
return 1
"""


class WorkflowError(Exception):
    """An action that cannot be done in the alert's current state."""


class NoChecklist(WorkflowError):
    pass


class NoSuchStep(WorkflowError):
    pass


class NotAcknowledged(WorkflowError):
    pass


@dataclass
class AlreadyDone(WorkflowError):
    """The step (or the resolution) was done before: ``mark`` says by whom and when."""

    mark: "Mark"


class AlreadyClosed(WorkflowError):
    pass


@dataclass(frozen=True)
class Mark:
    """Who did something and when (``at`` ISO 8601 UTC), with an optional note."""

    by: str
    at: str
    note: str = ""

    def json(self) -> str:
        return json.dumps({"by": self.by, "at": self.at, "note": self.note})

    @classmethod
    def parse(cls, raw: bytes | str | None) -> "Mark | None":
        if not raw:
            return None
        data = json.loads(raw)
        return cls(data["by"], data["at"], data.get("note", ""))


@dataclass(frozen=True)
class CaseState:
    """Everything about one alert's response."""

    alert_id: str
    title: str
    severity: Severity
    received_at: datetime
    steps: list[ChecklistStep]
    done: dict[int, Mark] = field(default_factory=dict)
    ack: Mark | None = None
    resolution: Mark | None = None
    escalation: dict | None = None

    @property
    def escalation_level(self) -> int:
        return int(self.escalation["level"]) if self.escalation else 0

    def case(self, open_: bool = True) -> Case:
        return Case(
            alert_id=self.alert_id, title=self.title, severity=self.severity, received_at=self.received_at,
            acknowledged=self.ack is not None,
            steps=tuple(StepState(s.n, s.due_at, s.n in self.done) for s in self.steps),
            level=self.escalation_level, open=open_ and self.resolution is None,
        )


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _checklist_json(stored: StoredAlert, templates: Templates) -> str:
    """The checklist, less ``received_at`` (the creating script adds the stored alert's)."""
    steps = templates.template(stored.alert.type).steps_for(stored.alert.severity)
    return json.dumps({
        "alert_id": stored.id, "type": stored.alert.type.value, "severity": stored.alert.severity.value,
        "title": stored.alert.title,
        "steps": [{"title": s.title, "role": s.role.value, "due_minutes": s.due_minutes} for s in steps],
    })


def utc_now() -> datetime:
    return datetime.now(UTC)


class Workflow:
    """Checklists, acknowledgments, steps, resolutions and escalations of alerts (synchronous client)."""

    def __init__(self, client: redis.Redis, keys: Keys, store: AlertStore, templates: Templates, *,
                 audit: AuditLog | None = None, clock: Clock = utc_now):
        self.client = client
        self.keys = keys
        self.store = store
        self.templates = templates
        self.audit = audit
        self.clock = clock
        self._create = client.register_script(_CREATE)
        self._ack = client.register_script(_ACK)
        self._escalate = client.register_script(_ESCALATE)

    # --- creation (the ingest hook) -----------------------------------------------

    def open_checklists(self, alerts: Iterable[StoredAlert]) -> list[str]:
        """Create the checklist of each open alert that has none; returns the ids created now."""
        alerts = [a for a in alerts if a.status.is_open]
        created: list[str] = []
        for start in range(0, len(alerts), _CHUNK):
            chunk = alerts[start:start + _CHUNK]
            args: list = []
            for stored in chunk:
                args += [self.keys.checklist(stored.id), self.keys.alert(stored.id), stored.id,
                         _checklist_json(stored, self.templates)]
            replies = self._create(keys=[self.keys.open_cases], args=args)
            created += [stored.id for stored, reply in zip(chunk, replies) if reply == 1]
        return created

    # --- reading --------------------------------------------------------------------

    def state(self, alert_id: str) -> CaseState | None:
        return self.states([alert_id]).get(alert_id)

    def states(self, alert_ids: list[str]) -> dict[str, CaseState]:
        """The response state of each alert that has a checklist (one round trip per chunk)."""
        found: dict[str, CaseState] = {}
        for start in range(0, len(alert_ids), _CHUNK):
            chunk = alert_ids[start:start + _CHUNK]
            pipe = self.client.pipeline(transaction=False)
            pipe.mget([self.keys.checklist(i) for i in chunk])
            for alert_id in chunk:
                pipe.hgetall(self.keys.checklist_done(alert_id))
            pipe.hmget(self.keys.acks, chunk)
            pipe.hmget(self.keys.resolutions, chunk)
            pipe.hmget(self.keys.escalation, chunk)
            replies = pipe.execute()
            checklists, dones = replies[0], replies[1:1 + len(chunk)]
            acks, resolutions, escalations = replies[1 + len(chunk):]
            for i, alert_id in enumerate(chunk):
                if not checklists[i]:
                    continue
                data = json.loads(checklists[i])
                received_at = datetime.fromisoformat(data["received_at"])
                steps = [ChecklistStep(n, s["title"], s["role"], received_at + timedelta(minutes=s["due_minutes"]))
                         for n, s in enumerate(data["steps"], start=1)]
                found[alert_id] = CaseState(
                    alert_id=alert_id, title=data["title"], severity=Severity(data["severity"]),
                    received_at=received_at, steps=steps,
                    done={int(_text(n)): Mark.parse(raw) for n, raw in dones[i].items()},
                    ack=Mark.parse(acks[i]), resolution=Mark.parse(resolutions[i]),
                    escalation=json.loads(escalations[i]) if escalations[i] else None,
                )
        return found

    def escalation_levels(self, alert_ids: list[str]) -> dict[str, int]:
        if not alert_ids:
            return {}
        raws = self.client.hmget(self.keys.escalation, alert_ids)
        return {i: int(json.loads(raw)["level"]) for i, raw in zip(alert_ids, raws) if raw}

    # --- actions --------------------------------------------------------------------

    def _now(self) -> str:
        return self.clock().isoformat()

    def acknowledge(self, alert_id: str, by: str) -> tuple[bool, Mark]:
        """(True, mine) for the first acknowledgment, (False, the first one) for every later one."""
        mine = Mark(by, self._now())
        first, raw = self._ack(keys=[self.keys.acks], args=[alert_id, mine.json()])
        if first:
            self.advance_status(alert_id, Status.ACKNOWLEDGED)
        return bool(first), Mark.parse(raw)  # type: ignore[return-value]

    def complete_step(self, alert_id: str, n: int, by: str, note: str = "") -> Mark:
        """Mark step ``n`` done; raises NoChecklist, NoSuchStep, NotAcknowledged, AlreadyClosed or AlreadyDone."""
        state = self.state(alert_id)
        if state is None:
            raise NoChecklist(alert_id)
        if not 1 <= n <= len(state.steps):
            raise NoSuchStep(f"step {n} (this checklist has {len(state.steps)})")
        if state.resolution is not None:
            raise AlreadyClosed("the alert is resolved")
        if state.ack is None:
            raise NotAcknowledged("acknowledge the alert before working its checklist")
        mark = Mark(by, self._now(), note)
        if not self.client.hsetnx(self.keys.checklist_done(alert_id), str(n), mark.json()):
            raise AlreadyDone(Mark.parse(self.client.hget(self.keys.checklist_done(alert_id), str(n))))
        self.advance_status(alert_id, Status.IN_PROGRESS)
        return mark

    def resolve(self, alert_id: str, by: str, note: str = "") -> Mark:
        """Close the response; raises AlreadyDone (resolved before) or AlreadyClosed (cancelled)."""
        stored = self.store.get(alert_id)
        if stored is not None and not stored.status.is_open and stored.status != Status.RESOLVED:
            raise AlreadyClosed(f"the alert is {stored.status.value}")
        mark = Mark(by, self._now(), note)
        if not self.client.hsetnx(self.keys.resolutions, alert_id, mark.json()):
            raise AlreadyDone(Mark.parse(self.client.hget(self.keys.resolutions, alert_id)))
        self.client.srem(self.keys.open_cases, alert_id)
        self.advance_status(alert_id, Status.RESOLVED)
        return mark

    def advance_status(self, alert_id: str, target: Status) -> Status | None:
        """Move the stored alert's status forward to ``target`` (never back); returns the new status."""
        key = self.keys.alert(alert_id)
        for _attempt in range(20):
            raw = self.client.get(key)
            if raw is None:
                return None
            stored = StoredAlert.model_validate_json(raw)
            status = advanced(stored.status, target)
            if status is None:
                return None
            if self.store.update(stored.model_copy(update={"status": status}), expected=raw):
                return status
        raise WorkflowError(f"alert {alert_id!r} kept changing; status not advanced")

    # --- escalation (an ``alerts.escalation.CaseSource``) ---------------------------

    def open_cases(self) -> list[Case]:
        ids = sorted(_text(i) for i in self.client.smembers(self.keys.open_cases))
        levels = self.escalation_levels(ids)
        ids = [i for i in ids if levels.get(i, 0) < MAX_LEVEL]  # nothing left to escalate for the others
        closed = self._closed(ids)  # e.g. cancelled or superseded by a later message
        if closed:
            self.client.srem(self.keys.open_cases, *closed)
        ids = [i for i in ids if i not in closed]
        return [state.case() for state in self.states(ids).values() if state.resolution is None]

    def _closed(self, alert_ids: list[str]) -> set[str]:
        closed = set()
        for start in range(0, len(alert_ids), _CHUNK):
            chunk = alert_ids[start:start + _CHUNK]
            for alert_id, raw in zip(chunk, self.client.mget([self.keys.alert(i) for i in chunk])):
                if raw is None or not Status(json.loads(raw)["status"]).is_open:
                    closed.add(alert_id)
        return closed

    def escalate(self, escalation: Escalation) -> bool:
        record = json.dumps({"level": escalation.level, "reason": escalation.reason,
                             "at": escalation.at.isoformat(), "cause": escalation.cause})
        done = self._escalate(
            keys=[self.keys.escalation, self.keys.acks, self.keys.resolutions],
            args=[escalation.alert_id, escalation.level, record, json.dumps(escalation.message()),
                  "1" if escalation.cause == UNACKNOWLEDGED else "0", self.keys.escalations_channel],
        )
        if done and self.audit is not None:
            self.audit.append("system", "alert.escalate", escalation.alert_id,
                              {"level": escalation.level, "reason": escalation.reason})
        return bool(done)
