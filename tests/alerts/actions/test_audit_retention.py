"""Audit retention: archive to daily JSON Lines files first, then trim exactly that, on a real Redis."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from alerts.actions.audit import account_nations, audit_entries
from alerts.actions.audit_retention import AuditRetention
from alerts.core.events import SignedIn, TokenUsed
from alerts.store.accounts import Accounts
from alerts.store.audit import AuditLog
from tests.conftest import wait_for


def _archived(directory) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("audit-*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def _fill(audit: AuditLog, n: int) -> list[str]:
    return [audit.record(f"user{i}", SignedIn(f"user{i}", role="responder"), "10.0.0.1") for i in range(n)]


def test_ret001_entries_past_the_length_are_archived_then_trimmed(client, keys, tmp_path):
    audit = AuditLog(client, keys)
    ids = _fill(audit, 10)
    retention = AuditRetention(audit, tmp_path, timedelta(days=90), max_entries=4)
    assert retention.run_once() == 6
    assert [e.entry_id for e in audit.read_all()] == ids[6:]
    lines = _archived(tmp_path)
    assert [line["id"] for line in lines] == ids[:6]
    assert lines[0]["actor"] == "user0" and lines[0]["action"] == "login.success" and lines[0]["ip"] == "10.0.0.1"
    assert retention.run_once() == 0 and len(_archived(tmp_path)) == 6  # nothing twice


def test_ret002_entries_past_the_age_are_archived_then_trimmed_by_the_injected_clock(client, keys, tmp_path):
    audit = AuditLog(client, keys)
    ids = _fill(audit, 5)
    now = [datetime.now(UTC)]
    retention = AuditRetention(audit, tmp_path, timedelta(days=90), max_entries=1_000, clock=lambda: now[0])
    assert retention.run_once() == 0
    last_ms = int(ids[-1].split("-")[0])
    wait_for(lambda: client.time()[0] * 1000 + client.time()[1] // 1000 > last_ms + 2, 5, "Redis's clock to move on")
    later = _fill(audit, 2)  # younger than the first five by a few milliseconds
    now[0] = datetime.fromtimestamp((last_ms + 1) / 1000, UTC) + timedelta(days=90)
    assert retention.run_once() == 5
    assert [e.entry_id for e in audit.read_all()] == later
    assert [line["id"] for line in _archived(tmp_path)] == ids
    day = datetime.now(UTC).date().isoformat()
    assert (tmp_path / f"audit-{day}.jsonl").exists()


def test_ret003_nothing_is_trimmed_when_the_archive_cannot_be_written(client, keys, tmp_path):
    audit = AuditLog(client, keys)
    _fill(audit, 3)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the archive directory should be")
    retention = AuditRetention(audit, blocked, timedelta(days=90), max_entries=1)
    with pytest.raises(OSError):  # an unwritable archive raises...
        retention.run_once()
    assert audit.length() == 3  # ...and nothing was trimmed


def test_ret004_the_background_job_archives_until_stopped(client, keys, tmp_path):
    audit = AuditLog(client, keys)
    ids = _fill(audit, 8)
    retention = AuditRetention(audit, tmp_path, timedelta(days=90), max_entries=3, interval=3600)
    stop = threading.Event()
    thread = threading.Thread(target=retention.run, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: audit.length() == 3, 10, "the job to trim")
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert [line["id"] for line in _archived(tmp_path)] == ids[:5]


def test_ret005_only_one_process_archives_at_a_time(client, keys, tmp_path):
    audit = AuditLog(client, keys)
    _fill(audit, 4)
    held = audit.lock(60)
    assert AuditRetention(audit, tmp_path, timedelta(days=90), max_entries=1).run_once() == 0
    audit.unlock(held)
    assert AuditRetention(audit, tmp_path, timedelta(days=90), max_entries=1).run_once() == 3


def test_ret006_a_truncated_entry_is_for_the_auditor_only(client, keys, centre):
    accounts = Accounts(client, keys)
    accounts.add_user("adm-rs", "admin", "RS", "a-long-password-1")
    accounts.add_user("aud-gr", "auditor", "GR", "a-long-password-1")
    accounts.add_user("duty-rs", "duty_officer", "RS", "a-long-password-1")
    plain = centre.audit.record("duty-rs", TokenUsed("t1", method="GET", path="/api/v1/alerts"), "")
    cut = centre.audit.record("duty-rs", TokenUsed("t1", method="GET", path="/api/v1/x/" + "y" * 5000), "")
    admin, auditor = (accounts.get_user(n).viewer("token", accounts.scheme) for n in ("adm-rs", "aud-gr"))
    nations = account_nations(accounts)
    assert [e.entry_id for e in audit_entries(centre, admin, nations).entries] == [plain]
    assert [e.entry_id for e in audit_entries(centre, auditor, nations).entries] == [cut, plain]


def test_ret007_the_archive_is_for_the_service_account_only(client, keys, tmp_path):
    audit = AuditLog(client, keys)
    _fill(audit, 3)
    folder = tmp_path / "audit"
    AuditRetention(audit, folder, timedelta(days=90), max_entries=1).run_once()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert [p.stat().st_mode & 0o777 for p in folder.iterdir()] == [0o600]
