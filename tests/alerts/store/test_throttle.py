"""Rate limits (GCRA) and the sign-in lock per (name, address), on a real Redis with an injected clock."""
from __future__ import annotations

import pytest

from alerts.core.rates import Rate
from alerts.store.throttle import RateLimiter, SignInLock


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_thr001_a_burst_passes_then_one_per_interval_with_an_exact_retry_after(client, keys):
    clock = Clock()
    limiter = RateLimiter(client, keys, clock)
    rate = Rate(5, 60.0)  # a burst of 5, then one every 12 s
    assert all(limiter.hit("login", "10.0.0.1", rate).allowed for _ in range(5))
    refused = limiter.hit("login", "10.0.0.1", rate)
    assert not refused.allowed and refused.retry_after == pytest.approx(12.0)
    assert limiter.hit("login", "10.0.0.2", rate).allowed  # another subject has its own budget
    clock.now += 11.9
    assert not limiter.hit("login", "10.0.0.1", rate).allowed  # refused hits cost nothing...
    clock.now += 0.1
    assert limiter.hit("login", "10.0.0.1", rate).allowed  # ...so waiting as told is enough
    assert not limiter.hit("login", "10.0.0.1", rate).allowed
    ttl = client.pttl(keys.rate("login", "10.0.0.1"))
    assert 0 < ttl <= 60_000  # the key expires when the clock says it is over


def test_thr002_failures_lock_a_name_and_address_pair_only(client, keys):
    clock = Clock()
    lock = SignInLock(client, keys, max_failures=5, window=900, clock=clock)
    for _ in range(4):
        assert lock.failed("alice", "127.0.0.2").allowed
    last = lock.failed("alice", "127.0.0.2")
    assert not last.allowed and last.retry_after == pytest.approx(900)
    assert not lock.check("alice", "127.0.0.2").allowed
    assert lock.check("alice", "127.0.0.3").allowed  # the same name from another address
    assert lock.check("bob", "127.0.0.2").allowed  # another name from the same address
    clock.now += 600
    assert lock.check("alice", "127.0.0.2").retry_after == pytest.approx(300)
    clock.now += 300
    assert lock.check("alice", "127.0.0.2").allowed  # the window after the last failure is over


def test_thr003_failures_far_apart_never_lock_and_a_success_clears(client, keys):
    clock = Clock()
    lock = SignInLock(client, keys, max_failures=3, window=60, clock=clock)
    for _ in range(10):
        assert lock.failed("carol", "10.1.1.1").allowed
        clock.now += 61
    lock.failed("carol", "10.1.1.1")
    lock.failed("carol", "10.1.1.1")
    lock.succeeded("carol", "10.1.1.1")
    assert lock.failed("carol", "10.1.1.1").allowed
