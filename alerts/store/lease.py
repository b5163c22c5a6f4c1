"""A lease in Redis with fencing: one process of a deployment runs a periodic job, and a holder that lost its
lease cannot write.

| key                       | kind   | holds                                                               |
|---------------------------|--------|---------------------------------------------------------------------|
| ``{p}:lease:{name}``      | string | ``<fencing number>:<token>`` of the holder (expires, ``PX``)        |
| ``{p}:fencing:{name}``    | string | the last fencing number handed out (``INCR``; never expires, never goes down) |

**Taking** (``Lease.hold`` when not holding): one script does ``SET ... NX PX`` only if the lease is free,
after ``INCR`` of the fencing counter, so each grant gets a number higher than every earlier grant's.
**Renewing** (``hold`` while holding): a compare-and-extend script (``PEXPIRE`` only if the value is still
ours). **Releasing** (``release``, on stop): compare-and-delete, so a stopping holder frees the lease at
once and never deletes a successor's.

**Fencing.** ``hold`` returns a ``Fence``: the lease key and the exact value it must hold. Every write the
holder makes for the job passes the fence to its Lua script, which first checks
``GET <lease key> == <value>`` (``FENCE_CHECK``) and refuses the write otherwise (the store then raises
``StaleFence``). The value names both the fencing number and a random token of this ``Lease`` object, so a
write is refused once the lease expired (key gone), or was taken by anyone else (another value), even if a
failover lost the counter and a new holder got the same number again.

**Time.** The lease expires on the Redis server's clock (``PX``). The holder also keeps its own view
(``current``): it counts ``ttl_ms`` less ``margin`` from the moment (by ``clock``, injectable; default
``time.monotonic``, seconds) it *sent* the request that took or renewed the lease, and stops acting when
that has run out, even if it cannot reach Redis to learn it lost the lease.

**Failure modes** (what the lease does and does not guarantee):

- *A holder that dies* (SIGKILL, host lost) stops renewing; another process takes over on its next pass
  after the lease expires, i.e. within ``ttl_ms`` plus one pass interval. Work is delayed that long, not lost
  (the jobs read their state from Redis on each pass).
- *A paused holder* (stopped process, a long GC or swap, a VM migration) that wakes up after its lease
  expired still believes, for an instant, that it holds it: the local view catches a pause that happened
  before ``current`` was checked, and the fenced scripts catch one between the check and the write. A
  write not made through a fenced script (e.g. the audit entry that follows a won escalation) is made
  only after a fenced write succeeded, so it can trail that write but not happen without it.
- *A partitioned holder* (cannot reach Redis) stops acting when its local view runs out; the others take
  over once Redis expires the key. Clocks do not need to agree between hosts: only durations are compared.
- *Failover* (Sentinel): replication is asynchronous, so the new primary may not have the last renewal or
  even the grant. A job may then run in a second process for up to ``ttl_ms``; the old holder's writes go
  to the demoted server (refused, ``READONLY``) and its value differs from a new holder's, so its fenced
  writes on the new primary are refused too. The jobs' own writes (escalation levels, fired injects) are
  idempotent scripts, so a double run costs work, not a double escalation.
- *Not a lock for correctness by itself*: the lease keeps one process busy with a job; what must be
  exactly-once is made so by the scripts (see ``alerts.store.workflow`` and ``alerts.store.exercises``).
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from alerts.store.client import Client, StoreError, text

log = logging.getLogger(__name__)

#: Lua that refuses a write whose fence does not hold: ``KEYS[lease]`` must hold ``ARGV[value]`` (an empty
#: value: the write is not fenced). Formatted with the script's own key and argument indexes.
FENCE_CHECK = """
if ARGV[{value}] ~= '' and redis.call('GET', KEYS[{key}]) ~= ARGV[{value}] then return -1 end
"""

# KEYS[1] lease, KEYS[2] fencing counter; ARGV[1] token, ARGV[2] ms. Returns the fencing number, or 0.
_TAKE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local number = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], number .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
return number
"""
# KEYS[1] lease; ARGV[1] value, ARGV[2] ms. 1 if extended, 0 if the lease is not ours (any more).
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# KEYS[1] lease; ARGV[1] value. 1 if deleted, 0 if it was not ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class StaleFence(Exception):
    """A fenced write was refused: the lease it was made under expired or passed to another holder."""


@dataclass(frozen=True)
class Fence:
    """Proof of holding a lease, passed to each fenced write: ``key`` (the lease) must still hold ``value``
    (``<number>:<token>``); ``number`` is the fencing number (higher for every later grant)."""

    key: str
    value: str
    number: int


def fence_args(fence: Fence | None, key: str) -> tuple[str, str]:
    """``(lease key, value)`` for a fenced script's KEYS and ARGV: ``key`` and ``""`` without a fence (the
    key is still declared, so a script names every key it may touch)."""
    return (fence.key, fence.value) if fence is not None else (key, "")


def holder(client: Client, key: str) -> tuple[int, str] | None:
    """Who holds the lease ``key`` now: ``(fencing number, token)``, or None when it is free."""
    raw = client.get(key)
    if not raw:
        return None
    number, _, token = text(raw).partition(":")
    return int(number), token


class Lease:
    """One process's claim on a named lease (see the module docstring).

    ``key`` and ``fencing_key`` are the lease and its counter (``Keys.lease(name)``, ``Keys.fencing(name)``);
    ``ttl_ms`` how long a grant or renewal lasts (milliseconds); ``margin`` the share of it the holder gives up
    for its own view (default 0.2); ``clock`` the monotonic clock in seconds (injectable); ``token`` a random
    token by default (unique to this object).
    """

    def __init__(self, client: Client, key: str, fencing_key: str, *, ttl_ms: int, margin: float = 0.2,
                 clock: Callable[[], float] = time.monotonic, token: str | None = None):
        if ttl_ms <= 0:
            raise ValueError(f"lease time must be positive, not {ttl_ms} ms")
        self.client = client
        self.key = key
        self.fencing_key = fencing_key
        self.ttl_ms = int(ttl_ms)
        self.margin = margin
        self.clock = clock
        self.token = token or secrets.token_hex(8)
        self._take = client.register_script(_TAKE)
        self._extend = client.register_script(_EXTEND)
        self._release = client.register_script(_RELEASE)
        self._fence: Fence | None = None
        self._until = 0.0

    def hold(self) -> Fence | None:
        """Renew the lease if held, else take it if free: the ``Fence`` to write with, or None while another
        holder has it. A renewal that finds the lease gone or taken tries to take it afresh (a new number).
        Raises what the client raises when Redis cannot be reached (the local view then runs out by itself)."""
        sent = self.clock()
        if self._fence is not None:
            if self._extend(keys=[self.key], args=[self._fence.value, self.ttl_ms]):
                self._until = sent + self.ttl_ms * (1 - self.margin) / 1000
                return self._fence
            log.warning("lease %s lost (fencing number %d): expired or taken", self.key, self._fence.number)
            self._fence = None
        number = int(self._take(keys=[self.key, self.fencing_key], args=[self.token, self.ttl_ms]))
        if not number:
            return None
        self._fence = Fence(self.key, f"{number}:{self.token}", number)
        self._until = sent + self.ttl_ms * (1 - self.margin) / 1000
        log.info("lease %s taken (fencing number %d)", self.key, number)
        return self._fence

    def current(self) -> Fence | None:
        """The fence while this holder's own view says it holds the lease (no Redis round trip), else None."""
        if self._fence is not None and self.clock() < self._until:
            return self._fence
        return None

    def release(self) -> bool:
        """Give the lease up now if it is still ours (compare-and-delete); True if it was."""
        fence, self._fence = self._fence, None
        if fence is None:
            return False
        return bool(self._release(keys=[self.key], args=[fence.value]))


def release_quietly(lease: Lease | None) -> None:
    """``lease.release()`` on the way out of a job; a Redis that cannot be reached is logged, not raised (the
    lease then expires by itself)."""
    if lease is None:
        return
    try:
        lease.release()
    except StoreError as exc:
        log.warning("could not release lease %s (%s); it expires by itself", lease.key, exc)
