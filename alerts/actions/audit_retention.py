"""Audit retention: the oldest audit entries are archived to files, then trimmed from the stream.

The audit stream keeps at most ``max_entries`` entries and none older than
``max_age`` (``CRISIS_AUDIT_MAX_ENTRIES``, ``CRISIS_AUDIT_RETENTION_DAYS``).
Nothing auditable is lost silently: each entry past either bound is first
appended to the JSON Lines file of its day (UTC, from its stream id),
``<archive dir>/audit-YYYY-MM-DD.jsonl``, one object per line with ``id``,
``at``, ``actor``, ``action``, ``object``, ``detail``, ``ip`` and
``truncated``; the file (0600, in a 0700 folder: ``alerts.actions.archive_files``)
is flushed and fsync'ed, and only then are exactly
those entries trimmed (``XTRIM MINID``). A crash between the two archives
them again on the next run: the archive is at-least-once, and a repeated
line carries the same ``id``.

One process at a time does this (a Redis lock); the archive is written on
that process's host. ``AuditRetention.run`` repeats ``run_once`` every
``interval`` seconds until its stop event is set; the clock is injectable
(``clock``: aware UTC ``datetime``), and "older than" compares stream ids
(Redis milliseconds) with ``clock() - max_age``.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.actions.archive_files import append_lines, private_dir, tighten
from alerts.actions.periodic import run_every
from alerts.core.events import stream_id_key
from alerts.store.audit import AuditEntry, AuditLog

log = logging.getLogger(__name__)

#: Entries archived per round (one file append and one trim each).
BATCH = 1000
#: How long one run may hold the lock (seconds); a run that dies frees it after this.
LOCK_SECONDS = 600


class AuditRetention:
    """Archive-then-trim of ``audit`` (see the module docstring)."""

    def __init__(self, audit: AuditLog, archive_dir: Path, max_age: timedelta, max_entries: int,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), interval: float = 3600.0):
        self.audit = audit
        self.archive_dir = Path(archive_dir)
        self.max_age = max_age
        self.max_entries = max_entries
        self.clock = clock
        self.interval = interval

    def run_once(self) -> int:
        """Archive and trim what is past the bounds now; returns how many entries were (0 when another
        process holds the lock). Raises ``OSError`` if the archive cannot be written (nothing is trimmed then)
        and ``redis.RedisError`` when Redis cannot answer."""
        token = self.audit.lock(LOCK_SECONDS)
        if token is None:
            return 0
        try:
            tighten(self.archive_dir)
            return self._archive_and_trim()
        finally:
            self.audit.unlock(token)

    def _archive_and_trim(self) -> int:
        cut_ms = int((self.clock() - self.max_age).timestamp() * 1000)
        excess = max(0, self.audit.length() - self.max_entries)
        done = 0
        while True:
            batch = self.audit.oldest(BATCH)
            due = []
            for entry in batch:
                if done + len(due) >= excess and stream_id_key(entry.entry_id)[0] >= cut_ms:
                    break
                due.append(entry)
            if not due:
                return done
            self._append(due)
            self.audit.trim_through(due[-1].entry_id)
            done += len(due)
            if len(due) < len(batch) or len(batch) < BATCH:
                return done

    def _append(self, entries: list[AuditEntry]) -> None:
        """Append ``entries`` to their days' files, flushed and fsync'ed before returning."""
        private_dir(self.archive_dir)
        by_day: dict[str, list[str]] = {}
        for entry in entries:
            day = datetime.fromtimestamp(stream_id_key(entry.entry_id)[0] / 1000, UTC).date().isoformat()
            record = asdict(entry)
            record["id"] = record.pop("entry_id")
            by_day.setdefault(day, []).append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        for day, lines in by_day.items():
            append_lines(self.archive_dir / f"audit-{day}.jsonl", lines)

    def run(self, stop: threading.Event) -> None:
        """``run_once`` now and every ``interval`` seconds until ``stop`` is set; a failed run is logged and
        tried again at the next interval (nothing is trimmed that was not archived)."""
        run_every(stop, self.interval, self.run_once, "audit retention (nothing trimmed that was not archived)", log)
