"""Recording alerts by producer identity, and references in any order (the Lua half of ``alerts.core.identity``).

``RECORD`` records a batch, each alert atomically (the whole batch in one
call, unless a key turns out to be needed that was not declared: see
``record``). Per alert it decides, from the
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

Both declare every key they touch in ``KEYS`` (a Redis Cluster routes a script
by them, and all are in the one slot of the prefix's hash tag); the key names
``RECORD`` derives (a suffixed key, the alert an identity names now) are
checked against that list before they are touched.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import redis
from redis.exceptions import NoScriptError

from alerts.store.client import Client, StoreError, text
from alerts.store.keys import Keys

#: How long a reference to an alert not received yet is kept (seconds; 7 days).
PENDING_RETENTION_SECONDS = 7 * 24 * 3600
MAX_PENDING_IDENTITIES = 100_000
MAX_PENDING_PER_IDENTITY = 20

# KEYS[1] events stream, KEYS[2] pending-refs hash, then every identity, message and alert key the batch may
# touch, in any order (``_declared``). ARGV[1] maxlen, ARGV[2] event kind, ARGV[3] alert key prefix,
# ARGV[4] identity key prefix, ARGV[5] message key prefix, ARGV[6] unused, then 7 values per alert: producer
# id, identity, message key ('' unless renewable), message time (epoch s), expiry (epoch s or ''), unused,
# the alert's JSON without "key".
# Returns per alert {outcome, key, event id or '', pending references JSON or '' [, lapsed key or '']}:
# outcome 1 new, 0 duplicate, 2 repeat report of the open alert of a renewable identity; a new alert of a
# renewable identity whose open alert lapsed (its expiry passed before this report, and it is not marked stale
# yet) names that alert's key last. An alert whose
# handling needs a key that was not declared is left untouched, as are those after it: the reply then ends
# with {3, that key}, and the caller runs the rest again declaring it (every key a script touches is one of
# its KEYS, as a Redis Cluster requires).
RECORD = """
local declared = {}
for j = 3, #KEYS do declared[KEYS[j]] = true end
local missing = nil
-- the key prefix .. name if declared; else nil, and it is the one missing
local function key(prefix, name)
  local k = prefix .. name
  if declared[k] then return k end
  missing = k
  return nil
end
-- The first free key of base~<12 hex of sha1(seed)>, then of sha1(seed#1), sha1(seed#2)...: a key held by
-- another alert (a producer may send an id that looks like a suffixed key) is never overwritten.
local function free_key(base, seed)
  local name = base .. '~' .. string.sub(redis.sha1hex(seed), 1, 12)
  local n = 0
  while true do
    local k = key(ARGV[3], name)
    if not k then return nil end
    if redis.call('EXISTS', k) == 0 then return name end
    n = n + 1
    name = base .. '~' .. string.sub(redis.sha1hex(seed .. '#' .. n), 1, 12)
  end
end
local function closed(record)
  local status = record['status']
  return status == 'resolved' or status == 'cancelled' or status == 'expired'
end
-- one alert: its reply, or nil (nothing written) when a key it needs was not declared
local function handle(i)
  local id, identity, mkey, mtime, expiry, json = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 6]
  local idkey = key(ARGV[4], identity)
  if not idkey then return nil end
  local mkeyname = nil
  if mkey ~= '' then
    mkeyname = key(ARGV[5], mkey)
    if not mkeyname then return nil end
    local seen = redis.call('GET', mkeyname)
    if seen then return {0, seen, ''} end
  end
  local current = redis.call('GET', idkey)
  local name = id
  local lapsed = ''
  if current then
    local current_key, current_expiry = string.match(current, '^(.*)|([^|]*)$')
    if mkey == '' then return {0, current_key, ''} end
    local current_alert = key(ARGV[3], current_key)
    if not current_alert then return nil end
    local raw = redis.call('GET', current_alert)
    local record = raw and cjson.decode(raw)
    -- an alert stale on receipt waits for its fresh report; a live one that lapsed is over
    local went_stale = record and record['stale'] ~= true and current_expiry ~= ''
                       and tonumber(current_expiry) < tonumber(mtime)
    if record and not closed(record) and not went_stale then
      redis.call('SET', mkeyname, current_key)
      if expiry ~= '' then redis.call('SET', idkey, current_key .. '|' .. expiry) end
      return {2, current_key, ''}
    end
    if record and not closed(record) and record['stale'] ~= true then lapsed = current_key end
    name = free_key(id, mkey)
  else
    local own = key(ARGV[3], id)
    if not own then return nil end
    if redis.call('EXISTS', own) == 1 then name = free_key(id, identity) end
  end
  if not name then return nil end
  local record = '{"key":' .. cjson.encode(name) .. ',' .. string.sub(json, 2)
  redis.call('SET', ARGV[3] .. name, record)  -- declared: free_key or the EXISTS above checked it
  redis.call('SET', idkey, name .. '|' .. expiry)
  if mkeyname then redis.call('SET', mkeyname, name) end
  local event = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'kind', ARGV[2], 'alert', record)
  return {1, name, event, '', lapsed}
end
local replies = {}
local any_pending = redis.call('EXISTS', KEYS[2]) == 1
for i = 7, #ARGV, 7 do
  local reply = handle(i)
  if not reply then
    replies[#replies + 1] = {3, missing}
    return replies
  end
  reply[4] = any_pending and redis.call('HGET', KEYS[2], ARGV[i + 1]) or ''
  replies[#replies + 1] = reply
end
return replies
"""

# KEYS[1] pending hash, KEYS[2] pending age zset, then the identity key of each pair; ARGV[1] now (epoch s),
# ARGV[2] retention (s), ARGV[3] max identities, ARGV[4] max per identity, then (identity, entry JSON) pairs.
# Returns per pair the key of the alert the identity names now, or false (the reference is kept).
REFERENCE = """
local replies = {}
for i = 5, #ARGV, 2 do
  local current = redis.call('GET', KEYS[2 + (i - 3) / 2])
  if current then
    replies[#replies + 1] = string.match(current, '^(.*)|')
  else
    local entry = cjson.decode(ARGV[i + 1])
    local raw = redis.call('HGET', KEYS[1], ARGV[i])
    local entries = raw and cjson.decode(raw) or {}
    local known = false
    for _, e in ipairs(entries) do if e['by'] == entry['by'] then known = true end end
    if not known and #entries < tonumber(ARGV[4]) then entries[#entries + 1] = entry end
    redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(entries))
    redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[i])
    replies[#replies + 1] = false
  end
end
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[1]) - tonumber(ARGV[2])))
local over = redis.call('ZCARD', KEYS[2]) - #old - tonumber(ARGV[3])
if over > 0 then
  for _, identity in ipairs(redis.call('ZRANGE', KEYS[2], #old, #old + over - 1)) do old[#old + 1] = identity end
end
for _, identity in ipairs(old) do
  redis.call('HDEL', KEYS[1], identity)
  redis.call('ZREM', KEYS[2], identity)
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
    the references that named its identity before (``{"by": key, "at": epoch}`` each), and for a new report of
    a renewable CoT emergency whose open alert lapsed, that alert's key (``lapsed``)."""

    key: str
    outcome: str
    event_id: str | None = None
    pending: list[dict] = field(default_factory=list)
    lapsed: str | None = None

    @property
    def alert_id(self) -> str:
        """The alert's key (its id in the centre)."""
        return self.key

    @property
    def duplicate(self) -> bool:
        """Whether the message named an alert recorded before (a duplicate or a repeat report)."""
        return self.outcome != "new"


_OUTCOMES = {1: "new", 0: "duplicate", 2: "repeat"}
_UNDECLARED = 3


def _suffixed(base: str, seed: str) -> str:
    """The first suffixed key ``RECORD``'s ``free_key`` tries: ``base~<12 hex of sha1(seed)>``."""
    return f"{base}~{hashlib.sha1(seed.encode()).hexdigest()[:12]}"


def _declared(client: Client, keys: Keys, items: list[Recordable]) -> set[str]:
    """The keys ``RECORD`` is expected to touch for ``items``: each one's identity, message and own alert
    key, its first suffixed keys, and for a renewable identity already recorded the alert it names now (read
    here: one ``MGET``, only when there are renewable items). What turns out to be missing still is named by
    the script (``record``)."""
    found: set[str] = set()
    for item in items:
        found |= {keys.identity(item.identity), keys.alert(item.producer_id),
                  keys.alert(_suffixed(item.producer_id, item.identity))}
        if item.message_key:
            found |= {keys.message(item.message_key), keys.alert(_suffixed(item.producer_id, item.message_key))}
    renewable = sorted({keys.identity(item.identity) for item in items if item.message_key})
    if renewable:
        for value in client.mget(renewable):
            if value:
                found.add(keys.alert(text(value).rpartition("|")[0]))
    return found


def record(client: Client, keys: Keys, script, items: list[Recordable], maxlen: int, kind: str) -> list[RecordResult]:
    """Run ``RECORD`` (registered as ``script``) over ``items``: one atomic call, declaring every key it
    touches (``_declared``); each alert the script finds needing one more key (a suffixed key taken, an
    identity recorded meanwhile) starts one more call, for it and the alerts after it. Raises
    ``redis.RedisError`` when Redis cannot answer (or, past ``8 + 4 * len(items)`` calls, keys keep moving)."""
    if not items:
        return []
    return _calls(script, keys, items, [], _declared(client, keys, items), maxlen, kind, 8 + 4 * len(items))


class SentRecord:
    """``record`` under way: its first script call was sent on a connection of the client's pool, held until
    ``result`` reads the answer (and makes any further call, as ``record`` does) or ``close`` drops it."""

    def __init__(self, client: Client, keys: Keys, script, items: list[Recordable], maxlen: int, kind: str):
        self.client, self.keys, self.script = client, keys, script
        self.items, self.maxlen, self.kind = items, maxlen, kind
        self.declared = _declared(client, keys, items)
        self.pool = client.connection_pool  # type: ignore[union-attr]
        self.connection = self.pool.get_connection()
        try:
            script_keys, args = _call(keys, self.declared, items, maxlen, kind)
            self.connection.send_command("EVALSHA", script.sha, len(script_keys), *script_keys, *args)
        except BaseException:
            self.close()
            raise

    def result(self) -> list[RecordResult]:
        """``record``'s answer (raises as it does)."""
        try:
            replies = self.connection.read_response()
        except NoScriptError:  # nothing ran: the whole call again, through the script (which loads it)
            self._release()
            return record(self.client, self.keys, self.script, self.items, self.maxlen, self.kind)
        except BaseException:
            self.close()
            raise
        self._release()
        results: list[RecordResult] = []
        _take(replies, results, self.declared)
        return _calls(self.script, self.keys, self.items, results, self.declared, self.maxlen, self.kind,
                      8 + 4 * len(self.items) - 1)

    def close(self) -> None:
        """Drop the call without reading its answer (the connection is closed: the answer may still come)."""
        if self.connection is not None:
            self.connection.disconnect()
            self._release()

    def _release(self) -> None:
        self.pool.release(self.connection)
        self.connection = None


def record_sent(client: Client, keys: Keys, script, items: list[Recordable], maxlen: int, kind: str
                ) -> SentRecord | None:
    """``record`` with its first call sent now, to be read later (``SentRecord.result``), so the caller works while
    Redis runs the script; None (call ``record``) for no items or a client without one connection pool (a
    cluster)."""
    if not items or not isinstance(getattr(client, "connection_pool", None), redis.ConnectionPool):
        return None
    return SentRecord(client, keys, script, items, maxlen, kind)


def _call(keys: Keys, declared: set[str], items: list[Recordable], maxlen: int, kind: str) -> tuple[list, list]:
    """``RECORD``'s KEYS and ARGV for ``items``."""
    args: list = [maxlen, kind, keys.alert(""), keys.identity(""), keys.message(""), ""]
    for item in items:
        args += [item.producer_id, item.identity, item.message_key, repr(item.message_epoch),
                 "" if item.expiry_epoch is None else repr(item.expiry_epoch), "", item.json]
    return [keys.events, keys.pending_refs, *sorted(declared)], args


def _take(replies: list, results: list[RecordResult], declared: set[str]) -> None:
    """Append the outcome of each alert ``RECORD`` handled to ``results``; the key it asked for to ``declared``."""
    for reply in replies:
        if int(reply[0]) == _UNDECLARED:
            declared.add(text(reply[1]))
            return
        outcome, key, event_id, pending, *lapsed = reply
        results.append(RecordResult(text(key), _OUTCOMES[int(outcome)], text(event_id) or None,
                                    json.loads(pending) if pending else [],
                                    text(lapsed[0]) or None if lapsed else None))


def _calls(script, keys: Keys, items: list[Recordable], results: list[RecordResult], declared: set[str], maxlen: int,
           kind: str, calls: int) -> list[RecordResult]:
    """``results`` completed by at most ``calls`` more calls of ``script`` for the items after them."""
    for _ in range(calls):
        if len(results) == len(items):
            return results
        script_keys, args = _call(keys, declared, items[len(results):], maxlen, kind)
        _take(script(keys=script_keys, args=args), results, declared)
    if len(results) == len(items):
        return results
    raise StoreError(f"recording {len(items) - len(results)} alert(s) kept needing keys not declared")


def reference(client: Client, keys: Keys, script, pairs: list[tuple[str, dict]], now_epoch: float) -> list[str | None]:
    """Run ``REFERENCE`` (registered as ``script``): per ``(identity, entry)``, the key it names now, or
    None when the entry was kept pending."""
    if not pairs:
        return []
    script_keys = [keys.pending_refs, keys.pending_refs_age] + [keys.identity(identity) for identity, _ in pairs]
    args: list = [repr(now_epoch), PENDING_RETENTION_SECONDS, MAX_PENDING_IDENTITIES, MAX_PENDING_PER_IDENTITY]
    for identity, entry in pairs:
        args += [identity, json.dumps(entry)]
    return [text(reply) if reply else None for reply in script(keys=script_keys, args=args)]


def forget_pending(client: Client, keys: Keys, identity: str) -> None:
    """Drop the pending references of ``identity`` (after they were applied)."""
    pipe = client.pipeline(transaction=False)
    pipe.hdel(keys.pending_refs, identity)
    pipe.zrem(keys.pending_refs_age, identity)
    pipe.execute()
