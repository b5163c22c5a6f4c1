"""The audit stream's bounds: every field cut with a marker, and aggregated token use, on a real Redis."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.core.events import AuditEvent, SignInFailed, SignInThrottled, TokenUsed
from alerts.store.audit import LIMITS, TRUNCATED, AuditLog


@dataclass(frozen=True)
class _Wide(AuditEvent, action="test.wide"):
    """An event with many long fields."""

    f0: str = ""
    f1: str = ""
    f2: str = ""
    f3: str = ""
    f4: str = ""
    f5: str = ""
    f6: str = ""
    f7: str = ""


def test_aud101_every_field_is_bounded_and_a_cut_entry_is_marked(client, keys):
    audit = AuditLog(client, keys)
    audit.record("x" * 1_000_000, TokenUsed("t" * 1_000_000, method="GET", path="/api/v1/" + "p" * 1_000_000),
                 "i" * 10_000)
    audit.record("alice", SignInFailed("alice"), "127.0.0.1")
    cut, plain = audit.read_all()
    assert len(cut.actor) <= LIMITS["actor"] and TRUNCATED in cut.actor
    assert len(cut.object) <= LIMITS["object"] and len(cut.ip) <= LIMITS["ip"]
    assert TRUNCATED in cut.detail["path"] and cut.detail["method"] == "GET" and cut.truncated
    assert not plain.truncated and plain.actor == "alice"
    assert client.memory_usage(keys.audit) < 32_000


def test_aud102_an_oversized_detail_stays_json(client, keys):
    audit = AuditLog(client, keys)
    audit.record("alice", TokenUsed("t1", method="M" * 2000, path="P" * 2000), "")
    audit.record("alice", _Wide("s", **{f"f{i}": "v" * 2000 for i in range(8)}), "")
    entries = audit.read_all()
    assert not entries[0].truncated  # 2,000 characters per value is within bounds
    assert entries[1].truncated and entries[1].detail["truncated"] is True
    assert len(entries[1].detail["excerpt"]) <= LIMITS["detail"]


def test_aud103_token_use_is_written_once_per_token_and_hour(client, keys):
    now = [datetime(2026, 11, 27, 10, 5, tzinfo=UTC)]
    audit = AuditLog(client, keys, clock=lambda: now[0])
    for _ in range(50):
        audit.record_first("alice", TokenUsed("tok1", method="GET", path="/api/v1/alerts"), "", per="token:tok1")
    audit.record_first("bob", TokenUsed("tok2", method="GET", path="/api/v1/me"), "", per="token:tok2")
    now[0] += timedelta(minutes=54)  # 10:59: the same hour
    assert audit.record_first("alice", TokenUsed("tok1"), "", per="token:tok1") is None
    now[0] += timedelta(minutes=2)  # 11:01: the next hour
    audit.record_first("alice", TokenUsed("tok1", method="POST", path="/api/v1/x"), "", per="token:tok1")
    uses = [(e.object, e.at[:13], e.detail.get("method")) for e in audit.read_all()]
    assert uses == [("tok1", "2026-11-27T10", "GET"), ("tok2", "2026-11-27T10", "GET"),
                    ("tok1", "2026-11-27T11", "POST")]


def test_aud110_counted_events_write_one_entry_a_minute_with_the_minute_before_counted(client, keys):
    now = [datetime(2026, 11, 30, 0, 0, 5, tzinfo=UTC)]
    audit = AuditLog(client, keys, clock=lambda: now[0])

    def fail(i: int):
        return audit.record_counted("?", lambda n: SignInThrottled(f"name-{i}", limit="login-global", sampled="s",
                                                                    previous_minute=n), f"10.0.{i}.1", per="flood")

    written = [fail(i) for i in range(50)]  # fifty addresses in one minute: one entry
    assert written[0] is not None and written[1:] == [None] * 49
    now[0] += timedelta(minutes=1)
    assert [fail(i) is not None for i in range(50, 53)] == [True, False, False]
    entries = audit.read_all()
    assert [(e.object, e.detail["previous_minute"]) for e in entries] == [("name-0", 0), ("name-50", 50)]
