"""Rate limits and sign-in locks, counted in Redis so every server process shares them.

- ``RateLimiter.hit(scope, subject, rate)``: the generic cell rate algorithm
  (GCRA, as in ATM networks and redis-cell). One key per subject holds the
  "theoretical arrival time" (TAT, epoch seconds); a hit is let through when
  ``TAT + interval - count * interval <= now`` and then moves the TAT on by
  one interval. So a subject may spend a burst of ``rate.count`` at once and
  then one more every ``rate.period / rate.count`` seconds; a refusal says
  exactly when the next hit would pass (``Verdict.retry_after``, seconds),
  which becomes ``Retry-After`` (RFC 9110 §10.2.3) on a 429 (RFC 6585 §4).
  Refused hits cost nothing, so a client that waits as told always gets in.
  ``refund`` gives one counted hit back (sign-in counts an attempt against
  its user name's failure budget before the password is checked, and gives
  it back when the password was right).
- ``SignInLock``: failed sign-ins per (user name, client address) pair
  (OWASP Authentication and Credential Stuffing cheat sheets). After
  ``max_failures`` failures, each within ``window`` seconds of the one
  before, the pair is refused until ``window`` seconds after the last
  failure; a success clears the pair. Failures from one address never lock
  the same name signing in from another. Sign-in ``reserve``s its attempt
  (counts it as a failure) in the same script that checks the lock, before
  the password is checked: concurrent attempts cannot all pass the check
  before the first failure is counted.

Time is the injected ``clock`` (epoch seconds, default ``time.time``), passed
to the scripts, so windows are exact under test; each key's Redis expiry is
set from that clock's distance to the key's end (garbage collection: a key
the clock says is over is never read as live). Each check is one atomic
script (correct with many processes). Keys: ``Keys.rate`` and
``Keys.login_failures``; each is bounded (subjects are short: a normalised,
capped user name and an address).

Why not the ``limits`` library: its Redis storage reads the wall clock and
spells its own key names; we need an injectable clock and every key in
``alerts.store.keys``.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from alerts.core.rates import Rate
from alerts.store.client import Client, text
from alerts.store.keys import Keys

_GCRA = """
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then return {0, tostring(allow_at - now)} end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) * 1000)))
return {1, '0'}
"""

_REFUND = """
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') - interval
if tat <= now then redis.call('DEL', KEYS[1]) return 0 end
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.max(1, math.ceil((tat - now) * 1000)))
return 1
"""

_LOCK = """
local now, window, most, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local state = redis.call('HMGET', KEYS[1], 'count', 'last')
local count, last = tonumber(state[1] or '0'), tonumber(state[2] or '0')
if now - last >= window then count = 0 end
if count >= most then return {0, tostring(last + window - now)} end
if mode == 'fail' or mode == 'reserve' then
  count = count + 1
  last = now
  redis.call('HSET', KEYS[1], 'count', count, 'last', string.format('%.6f', now))
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(window * 1000)))
end
if mode == 'fail' and count >= most then return {0, tostring(last + window - now)} end
return {1, '0'}
"""


@dataclass(frozen=True)
class Verdict:
    """Whether a hit passes; if not, ``retry_after``: seconds (> 0) until it would."""

    allowed: bool
    retry_after: float = 0.0


def _verdict(reply) -> Verdict:
    allowed, wait = reply
    return Verdict(bool(int(allowed)), 0.0 if int(allowed) else max(float(text(wait)), 0.001))


class RateLimiter:
    """GCRA rate limits (see the module docstring) under ``Keys.rate(scope, subject)``."""

    def __init__(self, client: Client, keys: Keys, clock: Callable[[], float] = time.time):
        self.client = client
        self.keys = keys
        self.clock = clock
        self._script = client.register_script(_GCRA)
        self._refund = client.register_script(_REFUND)

    def hit(self, scope: str, subject: str, rate: Rate) -> Verdict:
        """Count one hit of ``subject`` (e.g. an address) in ``scope`` (e.g. ``login``) against ``rate``.

        Returns ``Verdict(True)`` (counted) or ``Verdict(False, seconds to wait)`` (not counted).
        Raises ``redis.RedisError`` when Redis cannot answer.
        """
        reply = self._script(keys=[self.keys.rate(scope, subject)],
                             args=[repr(self.clock()), repr(rate.interval), rate.count])
        return _verdict(reply)


    def refund(self, scope: str, subject: str, rate: Rate) -> None:
        """Give back one hit counted by ``hit`` (e.g. an attempt counted before it was known not to be a
        failure): the subject's TAT moves back one interval, never before now."""
        self._refund(keys=[self.keys.rate(scope, subject)], args=[repr(self.clock()), repr(rate.interval)])


class SignInLock:
    """Failed sign-ins per (user name, address) (see the module docstring)."""

    def __init__(self, client: Client, keys: Keys, max_failures: int = 5, window: float = 900.0,
                 clock: Callable[[], float] = time.time):
        self.client = client
        self.keys = keys
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._script = client.register_script(_LOCK)

    def _run(self, name: str, address: str, mode: str) -> Verdict:
        return _verdict(self._script(keys=[self.keys.login_failures(name, address)],
                                     args=[repr(self.clock()), repr(self.window), self.max_failures, mode]))

    def check(self, name: str, address: str) -> Verdict:
        """Whether ``name`` may try to sign in from ``address`` now (not locked); counts nothing."""
        return self._run(name, address, "check")

    def reserve(self, name: str, address: str) -> Verdict:
        """Count an attempt before its password is checked, atomically with the check of the lock: refused
        (``Verdict(False, seconds)``) when the pair is locked, else counted as a failure until ``succeeded``
        clears it. So however many attempts run at once, at most ``max_failures`` passwords are checked per
        pair and lock period."""
        return self._run(name, address, "reserve")

    def failed(self, name: str, address: str) -> Verdict:
        """Count a failed sign-in; returns whether the pair may still try (False: it is locked now)."""
        return self._run(name, address, "fail")

    def succeeded(self, name: str, address: str) -> None:
        """Forget the pair's failures (a correct password)."""
        self.client.delete(self.keys.login_failures(name, address))
