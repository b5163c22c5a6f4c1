"""The response to each alert, kept in Redis: checklist, acknowledgment, steps done, resolution, escalation.

Guarantees (every key name is in ``alerts.store.keys``; the rules that decide
what may be done are ``alerts.core.response``):

- **One checklist per alert**, however many ingest workers or server processes
  run: ``open_checklists`` creates each only if it has none, inside one Lua
  call that also adds the alert to the open cases, so a replayed or duplicated
  alert, or two workers racing, create it once. Its steps are fixed then
  (``alerts.core.checklists``); their due times count from the stored alert's
  ``received_at`` (its release, for an alert released from Unrouted), whichever worker created it.
- **One acknowledgment per alert**: ``HSETNX`` in a Lua script that returns the
  existing ``{by, at}`` to everyone after the first, atomically across processes.
- **Each step done once** (``HSETNX`` per step); **one resolution** (``HSETNX``).
- **Escalation levels only go up, once each**: a Lua script (fenced: given the
  escalation lease's ``Fence``, it refuses to write once that lease expired or
  passed on, and ``escalate`` raises ``StaleFence``; ``alerts.store.lease``) records the level
  and PUBLISHes the message (``Escalation.message``) on ``{p}:escalations`` only
  if that level was not reached yet (and, for an unacknowledged alert, only if
  it is still unacknowledged and unresolved). The process whose script won then
  raises the stored alert's ``escalation_level`` (compare-and-set, never down),
  which appends ``alert.updated`` to the events stream: the read models and the
  live streams learn of an escalation as of any other change.
- The alert's status is advanced on its stored record through
  ``AlertStore.change`` (compare-and-set, never backwards), so the read models
  and live streams learn it; so is its count of steps done (``steps_done``),
  so a step done by anyone reaches every open page live.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from alerts.core.checklists import ChecklistStep, Templates
from alerts.core.escalation import MAX_LEVEL, UNACKNOWLEDGED, Case, Escalation
from alerts.core.model import Severity, Status, StoredAlert
from alerts.core.response import CaseState, Mark, advanced
from alerts.core.situation import ResponseTimes
from alerts.core.validity import lapsed
from alerts.store.alerts import AlertStore
from alerts.store.client import Client, text
from alerts.store.keys import Keys
from alerts.store.lease import FENCE_CHECK, Fence, StaleFence, fence_args

_CHUNK = 500

# KEYS[1] open-cases set, then (checklist key, alert key) pairs; ARGV: (alert id, checklist JSON) pairs, one
# per pair of keys.
# The checklist's clock starts at the *stored* alert's received_at (or, for an alert released
# from Unrouted, its routing.released_at: when the centre became accountable), read here and
# kept as the checklist's "received_at": a worker that handled a duplicate copy of the alert
# (received a moment later) opens the same checklist. A closed alert (cancelled before its
# checklist, expired on receipt) and an unrouted one (nobody may see it yet) get none.
# Returns 1/0 per alert (0: it had one already, it is closed, or it is not stored).
_CREATE = """
local created = {}
for i = 1, #ARGV, 2 do
  local made = 0
  local checklist, alert = KEYS[i + 1], KEYS[i + 2]
  if redis.call('EXISTS', checklist) == 0 then
    local raw = redis.call('GET', alert)
    local record = raw and cjson.decode(raw)
    local status = record and record['status']
    local routing = record and record['routing']
    local routed = routing == nil or (routing ~= cjson.null and routing['releasable_to'] ~= cjson.null
                                      and routing['releasable_to'] ~= nil)
    if record and routed and status ~= 'resolved' and status ~= 'cancelled' and status ~= 'expired' then
      local start = record['received_at']
      if routing ~= nil and routing['released_at'] ~= nil and routing['released_at'] ~= cjson.null then
        start = routing['released_at']
      end
      redis.call('SET', checklist, '{"received_at":' .. cjson.encode(start) .. ',' .. string.sub(ARGV[i + 1], 2))
      redis.call('SADD', KEYS[1], ARGV[i])
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

# KEYS[1] escalation hash, KEYS[2] acks hash, KEYS[3] resolutions hash, KEYS[4] the escalation lease;
# ARGV[1] alert id, ARGV[2] level, ARGV[3] record JSON, ARGV[4] message JSON,
# ARGV[5] '1' if the cause is "not acknowledged", ARGV[6] the channel, ARGV[7] the fence ('' for none).
# Returns 1 if recorded, 0 if that level was reached (or is moot), -1 if the fence no longer holds.
_ESCALATE = FENCE_CHECK.format(key=4, value=7) + """
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
if ARGV[5] == '1' and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and tonumber(cjson.decode(current)['level']) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', ARGV[6], ARGV[4])
return 1
"""


def _checklist_json(stored: StoredAlert, templates: Templates) -> str:
    """The checklist, less ``received_at`` (the creating script adds the stored alert's)."""
    steps = templates.template(stored.alert.type).steps_for(stored.alert.severity)
    return json.dumps({
        "alert_id": stored.id, "type": stored.alert.type.value, "severity": stored.alert.severity.value,
        "title": stored.alert.title,
        "steps": [{"title": s.title, "role": s.role.value, "due_minutes": s.due_minutes} for s in steps],
    })


def _marks(raw: dict) -> dict[str, tuple[str, datetime]]:
    marks = {}
    for alert_id, value in raw.items():
        data = json.loads(value)
        marks[text(alert_id)] = (data["by"], datetime.fromisoformat(data["at"]))
    return marks


class WorkflowStore:
    """Checklists, acknowledgments, steps, resolutions and escalations of alerts."""

    def __init__(self, client: Client, keys: Keys, alerts: AlertStore, templates: Templates):
        self.client = client
        self.keys = keys
        self.alerts = alerts
        self.templates = templates
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
            keys, args = [self.keys.open_cases], []
            for stored in chunk:
                keys += [self.keys.checklist(stored.id), self.keys.alert(stored.id)]
                args += [stored.id, _checklist_json(stored, self.templates)]
            replies = self._create(keys=keys, args=args)
            created += [stored.id for stored, reply in zip(chunk, replies) if reply == 1]
        return created

    # --- reading --------------------------------------------------------------------

    def state(self, alert_id: str) -> CaseState | None:
        """The response state of one alert (None if it has no checklist)."""
        return self.states([alert_id]).get(alert_id)

    def states(self, alert_ids: list[str]) -> dict[str, CaseState]:
        """The response state of each alert that has a checklist (one round trip per 500)."""
        found: dict[str, CaseState] = {}
        for start in range(0, len(alert_ids), _CHUNK):
            chunk = alert_ids[start:start + _CHUNK]
            pipe = self.client.pipeline(transaction=False)
            for alert_id in chunk:  # GETs, not one MGET: a cluster pipeline refuses MGET (redis-py)
                pipe.get(self.keys.checklist(alert_id))
            for alert_id in chunk:
                pipe.hgetall(self.keys.checklist_done(alert_id))
            pipe.hmget(self.keys.acks, chunk)
            pipe.hmget(self.keys.resolutions, chunk)
            pipe.hmget(self.keys.escalation, chunk)
            replies = pipe.execute()
            checklists, dones = replies[:len(chunk)], replies[len(chunk):2 * len(chunk)]
            acks, resolutions, escalations = replies[2 * len(chunk):]
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
                    done={int(text(n)): Mark.parse(raw) for n, raw in dones[i].items()},
                    ack=Mark.parse(acks[i]), resolution=Mark.parse(resolutions[i]),
                    escalation=json.loads(escalations[i]) if escalations[i] else None,
                )
        return found

    def escalation_levels(self, alert_ids: list[str]) -> dict[str, int]:
        """Alert id -> the escalation level reached, for those escalated at all."""
        if not alert_ids:
            return {}
        raws = self.client.hmget(self.keys.escalation, alert_ids)
        return {i: int(json.loads(raw)["level"]) for i, raw in zip(alert_ids, raws) if raw}

    def response_times(self) -> ResponseTimes:
        """Every acknowledgment and resolution (by, at) and escalation level (for the situation figures)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self.keys.acks)
        pipe.hgetall(self.keys.resolutions)
        pipe.hgetall(self.keys.escalation)
        acks, resolutions, escalations = pipe.execute()
        levels = {text(k): int(json.loads(v)["level"]) for k, v in escalations.items()}
        return ResponseTimes(acknowledged=_marks(acks), resolved=_marks(resolutions), escalation=levels)

    # --- writing --------------------------------------------------------------------

    def acknowledge(self, alert_id: str, mark: Mark) -> tuple[bool, Mark]:
        """(True, ``mark``) for the first acknowledgment, (False, the first one) for every later one."""
        first, raw = self._ack(keys=[self.keys.acks], args=[alert_id, mark.json()])
        if first:
            self.advance_status(alert_id, Status.ACKNOWLEDGED)
        return bool(first), Mark.parse(raw)  # type: ignore[return-value]

    def mark_step(self, alert_id: str, n: int, mark: Mark) -> Mark | None:
        """Record step ``n`` done; None if recorded now, else the mark of whoever did it first.

        The stored alert then moves to ``in_progress`` and its ``steps_done`` to the steps done now (never
        down), in one write: every step done appends ``alert.updated``, so open pages learn of it live."""
        if not self.client.hsetnx(self.keys.checklist_done(alert_id), str(n), mark.json()):
            return Mark.parse(self.client.hget(self.keys.checklist_done(alert_id), str(n)))
        done = int(self.client.hlen(self.keys.checklist_done(alert_id)))

        def progress(stored: StoredAlert) -> StoredAlert | None:
            status = advanced(stored.status, Status.IN_PROGRESS) or stored.status
            if status is stored.status and stored.steps_done >= done:
                return None
            return stored.model_copy(update={"status": status, "steps_done": max(done, stored.steps_done)})

        self.alerts.change(alert_id, progress)
        return None

    def resolve(self, alert_id: str, mark: Mark) -> Mark | None:
        """Record the resolution; None if recorded now, else the first resolution's mark."""
        if not self.client.hsetnx(self.keys.resolutions, alert_id, mark.json()):
            return Mark.parse(self.client.hget(self.keys.resolutions, alert_id))
        self.client.srem(self.keys.open_cases, alert_id)
        self.advance_status(alert_id, Status.RESOLVED)
        return None

    def advance_status(self, alert_id: str, target: Status) -> Status | None:
        """Move the stored alert's status forward to ``target`` (never back); returns the new status."""
        def advance(stored: StoredAlert) -> StoredAlert | None:
            status = advanced(stored.status, target)
            return None if status is None else stored.model_copy(update={"status": status})

        changed = self.alerts.change(alert_id, advance)
        if changed is None or changed[1] is changed[0]:
            return None
        return changed[1].status

    # --- escalation -----------------------------------------------------------------

    def open_cases(self, now: datetime | None = None, skip: Collection[str] = ()) -> list[Case]:
        """The open responses escalation watches at ``now`` (UTC; default: no expiry check), each with its
        alert's ``expires_at``; those of the alert ids in ``skip`` are not read (nor returned).

        Resolved, cancelled and level-2 ones drop out; open alerts whose
        validity ended by ``now`` are marked expired and drop out
        (``alerts.core.validity.lapsed``); stale CoT emergencies stay watched
        but are not returned until a fresh report clears their mark.
        """
        ids = sorted(i for i in map(text, self.client.smembers(self.keys.open_cases)) if i not in skip)
        levels = self.escalation_levels(ids)
        ids = [i for i in ids if levels.get(i, 0) < MAX_LEVEL]  # nothing left to escalate for the others
        records = dict(zip(ids, self._records(ids)))
        for alert_id, stored in records.items():
            if stored is not None and now is not None and lapsed(stored, now):
                self.advance_status(alert_id, Status.EXPIRED)
                records[alert_id] = None
        done = [i for i, stored in records.items() if stored is None or not stored.status.is_open]
        if done:  # cancelled, superseded, expired or gone
            self.client.srem(self.keys.open_cases, *done)
        watched = [i for i, stored in records.items() if stored is not None and stored.status.is_open
                   and not stored.stale]
        return [replace(state.case(), expires_at=records[alert_id].expires_at)
                for alert_id, state in self.states(watched).items() if state.resolution is None]

    def _records(self, alert_ids: list[str]) -> list[StoredAlert | None]:
        found: list[StoredAlert | None] = []
        for start in range(0, len(alert_ids), _CHUNK):
            found += self.alerts.get_many(alert_ids[start:start + _CHUNK])
        return found

    def escalate(self, escalation: Escalation, fence: Fence | None = None) -> bool:
        """Record and announce ``escalation`` unless its level was reached; True if it was new.

        With ``fence`` (the escalation lease's), nothing is written once that lease no longer holds:
        ``StaleFence``."""
        record = json.dumps({"level": escalation.level, "reason": escalation.reason,
                             "at": escalation.at.isoformat(), "cause": escalation.cause})
        lease_key, fence_value = fence_args(fence, self.keys.lease("escalation"))
        done = self._escalate(
            keys=[self.keys.escalation, self.keys.acks, self.keys.resolutions, lease_key],
            args=[escalation.alert_id, escalation.level, record, json.dumps(escalation.message()),
                  "1" if escalation.cause == UNACKNOWLEDGED else "0", self.keys.escalations_channel, fence_value],
        )
        if done == -1:
            raise StaleFence(f"escalation of {escalation.alert_id} to level {escalation.level} refused: "
                             f"the lease of fencing number {fence.number if fence else '?'} no longer holds")
        if done:
            self.raise_level(escalation.alert_id, escalation.level)
        return bool(done)

    def raise_level(self, alert_id: str, level: int) -> None:
        """Raise the stored alert's ``escalation_level`` to ``level`` (never down; nothing if it is there)."""
        def raise_(stored: StoredAlert) -> StoredAlert | None:
            if stored.escalation_level >= level:
                return None
            return stored.model_copy(update={"escalation_level": level})

        self.alerts.change(alert_id, raise_)
