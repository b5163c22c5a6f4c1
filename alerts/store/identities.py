"""Recording alerts by producer identity, and references in any order (the Lua half of ``alerts.core.identity``).

``RECORD`` records a batch atomically. Per alert it decides, from the
identity keys (``Keys.identity``), whether the message is a new alert, a
duplicate of a recorded one, or (for a renewable CoT emergency) a repeat
report of the open one; chooses the alert's key (its producer id, or a
suffixed key when the id is taken by another identity or the identity is
raised again after its alert closed: see ``alerts.core.identity``); writes the
record with that ``key`` (never one another alert holds: a suffixed key that
is taken, e.g. by a producer whose own id looks like one, is passed over for
the next free one) and appends ``alert.created`` to the events stream;
and returns the references that named the identity before it arrived.

``REFERENCE`` resolves references atomically with recording: a named
identity that is recorded answers its alert's key; one that is not yet is
kept in ``Keys.pending_refs`` (at most ``MAX_PENDING_PER_IDENTITY`` per
identity, ``PENDING_RETENTION_SECONDS`` old and ``MAX_PENDING_IDENTITIES``
identities in all; the oldest go first) and handed back by ``RECORD`` when
the alert arrives. So a cancel and its alert give the same end state in
either order, whichever workers handle them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from alerts.store.client import Client, text
from alerts.store.keys import Keys

#: How long a reference to an alert not received yet is kept (seconds; 7 days).
PENDING_RETENTION_SECONDS = 7 * 24 * 3600
MAX_PENDING_IDENTITIES = 100_000
MAX_PENDING_PER_IDENTITY = 20

# KEYS[1] events stream. ARGV[1] maxlen, ARGV[2] event kind, ARGV[3] alert key prefix,
# ARGV[4] identity key prefix, ARGV[5] message key prefix, ARGV[6] pending-refs hash, then 7 values
# per alert: producer id, identity, message key ('' unless renewable), message time (epoch s),
# expiry (epoch s or ''), unused, the alert's JSON without "key".
# Returns per alert {outcome, key, event id or '', pending references JSON or ''}:
# outcome 1 new, 0 duplicate, 2 repeat report of the open alert of a renewable identity.
RECORD = """
-- The first free key of base~<12 hex of sha1(seed)>, then of sha1(seed#1), sha1(seed#2)...: a key held by
-- another alert (a producer may send an id that looks like a suffixed key) is never overwritten.
local function free_key(base, seed)
  local key = base .. '~' .. string.sub(redis.sha1hex(seed), 1, 12)
  local n = 0
  while redis.call('EXISTS', ARGV[3] .. key) == 1 do
    n = n + 1
    key = base .. '~' .. string.sub(redis.sha1hex(seed .. '#' .. n), 1, 12)
  end
  return key
end
local function closed(record)
  local status = record['status']
  return status == 'resolved' or status == 'cancelled' or status == 'expired'
end
local replies = {}
local any_pending = redis.call('EXISTS', ARGV[6]) == 1
for i = 7, #ARGV, 7 do
  local id, identity, mkey, mtime, expiry, json = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 6]
  local idkey = ARGV[4] .. identity
  local reply = nil
  if mkey ~= '' then
    local seen = redis.call('GET', ARGV[5] .. mkey)
    if seen then reply = {0, seen, ''} end
  end
  if not reply then
    local current = redis.call('GET', idkey)
    local key = id
    if current then
      local current_key, current_expiry = string.match(current, '^(.*)|([^|]*)$')
      if mkey == '' then
        reply = {0, current_key, ''}
      else
        local raw = redis.call('GET', ARGV[3] .. current_key)
        local record = raw and cjson.decode(raw)
        -- an alert stale on receipt waits for its fresh report; a live one that lapsed is over
        local went_stale = record and record['stale'] ~= true and current_expiry ~= ''
                           and tonumber(current_expiry) < tonumber(mtime)
        if record and not closed(record) and not went_stale then
          redis.call('SET', ARGV[5] .. mkey, current_key)
          if expiry ~= '' then redis.call('SET', idkey, current_key .. '|' .. expiry) end
          reply = {2, current_key, ''}
        else
          key = free_key(id, mkey)
        end
      end
    elseif redis.call('EXISTS', ARGV[3] .. key) == 1 then
      key = free_key(id, identity)
    end
    if not reply then
      local record = '{"key":' .. cjson.encode(key) .. ',' .. string.sub(json, 2)
      redis.call('SET', ARGV[3] .. key, record)
      redis.call('SET', idkey, key .. '|' .. expiry)
      if mkey ~= '' then redis.call('SET', ARGV[5] .. mkey, key) end
      local event = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'kind', ARGV[2], 'alert', record)
      reply = {1, key, event}
    end
  end
  reply[4] = any_pending and redis.call('HGET', ARGV[6], identity) or ''
  replies[#replies + 1] = reply
end
return replies
"""

# ARGV[1] identity key prefix, ARGV[2] pending hash, ARGV[3] pending age zset, ARGV[4] now (epoch s),
# ARGV[5] retention (s), ARGV[6] max identities, ARGV[7] max per identity, then (identity, entry JSON) pairs.
# Returns per pair the key of the alert the identity names now, or false (the reference is kept).
REFERENCE = """
local replies = {}
for i = 8, #ARGV, 2 do
  local current = redis.call('GET', ARGV[1] .. ARGV[i])
  if current then
    replies[#replies + 1] = string.match(current, '^(.*)|')
  else
    local entry = cjson.decode(ARGV[i + 1])
    local raw = redis.call('HGET', ARGV[2], ARGV[i])
    local entries = raw and cjson.decode(raw) or {}
    local known = false
    for _, e in ipairs(entries) do if e['by'] == entry['by'] then known = true end end
    if not known and #entries < tonumber(ARGV[7]) then entries[#entries + 1] = entry end
    redis.call('HSET', ARGV[2], ARGV[i], cjson.encode(entries))
    redis.call('ZADD', ARGV[3], 'NX', ARGV[4], ARGV[i])
    replies[#replies + 1] = false
  end
end
local old = redis.call('ZRANGEBYSCORE', ARGV[3], '-inf', '(' .. (tonumber(ARGV[4]) - tonumber(ARGV[5])))
local over = redis.call('ZCARD', ARGV[3]) - #old - tonumber(ARGV[6])
if over > 0 then
  for _, identity in ipairs(redis.call('ZRANGE', ARGV[3], #old, #old + over - 1)) do old[#old + 1] = identity end
end
for _, identity in ipairs(old) do
  redis.call('HDEL', ARGV[2], identity)
  redis.call('ZREM', ARGV[3], identity)
end
return replies
"""


@dataclass(frozen=True)
class Recordable:
    """One alert to record: its producer id and identity, and its JSON (``StoredAlert`` less ``key``).

    ``message_key`` is set for a renewable identity (``identity@time``); the
    epochs are seconds since 1970 UTC (``expiry_epoch`` None when the alert
    has no end of validity).
    """

    producer_id: str
    identity: str
    json: bytes
    message_key: str = ""
    message_epoch: float = 0.0
    expiry_epoch: float | None = None


@dataclass(frozen=True)
class RecordResult:
    """What recording one alert did: ``outcome`` new / duplicate / repeat, its key, its event id if new,
    and the references that named its identity before (``{"by": key, "at": epoch}`` each)."""

    key: str
    outcome: str
    event_id: str | None = None
    pending: list[dict] = field(default_factory=list)

    @property
    def alert_id(self) -> str:
        """The alert's key (its id in the centre)."""
        return self.key

    @property
    def duplicate(self) -> bool:
        """Whether the message named an alert recorded before (a duplicate or a repeat report)."""
        return self.outcome != "new"


_OUTCOMES = {1: "new", 0: "duplicate", 2: "repeat"}


def record(client: Client, keys: Keys, script, items: list[Recordable], maxlen: int, kind: str) -> list[RecordResult]:
    """Run ``RECORD`` (registered as ``script``) over ``items``; one atomic call."""
    if not items:
        return []
    args: list = [maxlen, kind, keys.alert(""), keys.identity(""), keys.message(""), keys.pending_refs]
    for item in items:
        args += [item.producer_id, item.identity, item.message_key, repr(item.message_epoch),
                 "" if item.expiry_epoch is None else repr(item.expiry_epoch), "", item.json]
    results = []
    for outcome, key, event_id, pending in script(keys=[keys.events], args=args):
        results.append(RecordResult(text(key), _OUTCOMES[int(outcome)], text(event_id) or None,
                                    json.loads(pending) if pending else []))
    return results


def reference(client: Client, keys: Keys, script, pairs: list[tuple[str, dict]], now_epoch: float) -> list[str | None]:
    """Run ``REFERENCE`` (registered as ``script``): per ``(identity, entry)``, the key it names now, or
    None when the entry was kept pending."""
    if not pairs:
        return []
    args: list = [keys.identity(""), keys.pending_refs, keys.pending_refs_age, repr(now_epoch),
                  PENDING_RETENTION_SECONDS, MAX_PENDING_IDENTITIES, MAX_PENDING_PER_IDENTITY]
    for identity, entry in pairs:
        args += [identity, json.dumps(entry)]
    return [text(reply) if reply else None for reply in script(args=args)]


def forget_pending(client: Client, keys: Keys, identity: str) -> None:
    """Drop the pending references of ``identity`` (after they were applied)."""
    pipe = client.pipeline(transaction=False)
    pipe.hdel(keys.pending_refs, identity)
    pipe.zrem(keys.pending_refs_age, identity)
    pipe.execute()
