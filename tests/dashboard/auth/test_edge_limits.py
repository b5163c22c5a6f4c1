"""The edge's limits as the server builds them, on a real Redis with an injected clock."""
from __future__ import annotations

from alerts.store.audit import AuditLog
from dashboard.auth.limits import EdgeLimits, address_key, retry_after
from dashboard.settings import Settings


def test_edg001_addresses_are_keyed_ipv6_by_its_64():
    assert address_key("127.0.0.2") == "127.0.0.2"
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert address_key("x" * 500) == "x" * 64 and address_key("") == "unknown"


def test_edg002_the_global_sign_in_limit_counts_every_address(client, keys):
    now = [1_800_000_000.0]
    settings = Settings(login_rate="5/minute", login_rate_global="3/minute")
    audit = AuditLog(client, keys)
    limits = EdgeLimits.build(settings, client, keys, audit, clock=lambda: now[0])
    assert [limits.sign_in(f"10.0.0.{i}", "x")[0].allowed for i in range(3)] == [True] * 3
    verdict, limit = limits.sign_in("10.0.0.99", "x")
    assert not verdict.allowed and limit == "login-global" and retry_after(verdict) == 20
    assert audit.read_all() == []  # the login page decides (a correct password passes) and audits a refusal
    now[0] += 20
    assert limits.sign_in("10.0.0.99", "x")[0].allowed


def test_edg003_refusals_by_the_global_limit_are_audited_once_a_minute_with_a_count(client, keys):
    from datetime import UTC, datetime

    now = [1_800_000_000.0]  # a whole minute: the audit's minutes start here
    settings = Settings(login_rate="5/minute", login_rate_global="3/minute")
    audit = AuditLog(client, keys, clock=lambda: datetime.fromtimestamp(now[0], UTC))
    limits = EdgeLimits.build(settings, client, keys, audit, clock=lambda: now[0])
    for i in range(3):
        limits.sign_in(f"10.0.0.{i}", "x")
    for i in range(40):  # a flood: each address new, each refused by the global limit
        verdict, limit = limits.sign_in(f"10.1.{i}.1", "x")
        assert limit == "login-global"
        limits.refused("x", f"10.1.{i}.1", limit, verdict, f"10.1.{i}.1")
    first = [e for e in audit.read_all() if e.action == "rate.limited"]
    assert len(first) == 1 and first[0].object == "10.1.0.1" and first[0].detail["previous_minute"] == 0
    assert first[0].detail["sampled"]
    now[0] += 60
    for i in range(5):
        verdict, limit = limits.sign_in(f"10.2.{i}.1", "x")
        if limit == "login-global":
            limits.refused("x", f"10.2.{i}.1", limit, verdict, f"10.2.{i}.1")
    limited = [e for e in audit.read_all() if e.action == "rate.limited"]
    assert len(limited) == 2 and limited[1].detail["previous_minute"] == 40  # what the first minute stood for
    api = [limits.refused("tok", "token-1", "api", verdict, "10.3.0.1") for _ in range(3)]
    assert len(api) == 3 and len([e for e in audit.read_all() if e.object == "token-1"]) == 1  # per token, hourly
