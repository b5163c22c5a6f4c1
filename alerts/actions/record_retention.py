"""Record retention: every alert and asset event is archived, and only archived events are ever trimmed.

The record (``alerts.core.record``) is the alert events stream ``{p}:events``, the asset events stream
``{p}:assets:events`` and the audit trail (which keeps its own archive-then-trim,
``alerts.actions.audit_retention``). ``RecordRetention.run_once``, for each of the two event streams:

1. **archives** every entry after the stream's archive cursor (``alerts.store.record``) by appending it to
   ``<archive dir>/<stream>-YYYY-MM-DD.jsonl`` (its UTC day, from its stream id): one JSON object per line,
   ``{"id": ..., "fields": {...}}`` with the entry's fields as stored (``kind``, ``alert`` / ``asset`` JSON,
   ``previous``); the file (0600, in a 0700 folder: ``alerts.actions.archive_files``) is flushed and
   fsync'ed and only then is the cursor moved on. A crash in between archives those entries again:
   at-least-once, a repeated line has the same ``id``;
2. **trims** the entries older than ``max_age`` (``CRISIS_RECORD_RETENTION_DAYS``, default 400 days) that are
   archived (at or before the cursor), exactly (``XTRIM MINID``).

It runs every ``interval`` seconds (default 60) so that the streams' own length caps (``MAXLEN ~``, set far
above a minute's events) find every entry archived already; ``lost`` counts entries a cap removed before
they could be archived (the oldest entry is newer than the cursor), logged as an error. One process at a
time (a Redis lock). The clock is injectable (``clock``: aware UTC ``datetime``); "older than" compares
stream ids (Redis milliseconds) with ``clock() - max_age``.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.actions.archive_files import append_lines, private_dir, tighten
from alerts.actions.periodic import run_every
from alerts.core.events import stream_id_key
from alerts.core.record import instant_of
from alerts.store.client import text
from alerts.store.record import RecordStreams, fields_json

log = logging.getLogger(__name__)

#: The streams archived here (the audit trail has its own retention).
ARCHIVED = ("alerts", "assets")
#: How long one run may hold the lock (seconds).
LOCK_SECONDS = 600
#: Entries read, appended per file write and let go at a time: a catch-up (a process started after the archive
#: fell behind: 100,000 events) holds one batch, about 8 KB per entry of 1.5 KB (5,000 held 20-40 MB more).
BATCH = 1000


class RecordRetention:
    """Archive-then-trim of the record's alert and asset events (see the module docstring)."""

    def __init__(self, streams: RecordStreams, archive_dir: Path, max_age: timedelta = timedelta(days=400),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), interval: float = 60.0):
        self.streams = streams
        self.archive_dir = Path(archive_dir)
        self.max_age = max_age
        self.clock = clock
        self.interval = interval
        self.lost = 0

    def run_once(self) -> dict[str, dict[str, int]]:
        """Archive what is new and trim what is past ``max_age``: per stream ``{"archived": n, "trimmed": n}``
        (empty when another process holds the lock). Raises ``OSError`` if the archive cannot be written
        (nothing is trimmed then) and ``redis.RedisError`` when Redis cannot answer."""
        token = secrets.token_hex(8)
        if not self.streams.lock(token, LOCK_SECONDS):
            return {}
        try:
            tighten(self.archive_dir)
            return {stream: self._stream(stream) for stream in ARCHIVED}
        finally:
            self.streams.unlock(token)

    def _stream(self, stream: str) -> dict[str, int]:
        cursor = self.streams.archive_cursor(stream)
        oldest = self.streams.oldest_id(stream)
        if oldest is not None and cursor != "0-0" and stream_id_key(oldest) > stream_id_key(cursor):
            gap = f"{stream}: entries after {cursor} were capped away before they were archived (oldest {oldest})"
            log.error("record retention: %s", gap)
            self.lost += 1
        archived, batch = 0, []
        for entry_id, fields in self.streams.raw(stream, after=cursor, batch=BATCH):
            batch.append((text(entry_id), fields_json(fields)))
            if len(batch) >= BATCH:
                archived += self._archive(stream, batch)
                batch = []
        if batch:
            archived += self._archive(stream, batch)
        cursor = self.streams.archive_cursor(stream)
        cut = int((self.clock() - self.max_age).timestamp() * 1000)
        limit = min(cut, stream_id_key(cursor)[0] + 1) if cursor != "0-0" else 0
        trimmed = self.streams.trim_before(stream, f"{limit}-0") if limit > 0 else 0
        return {"archived": archived, "trimmed": trimmed}

    def _archive(self, stream: str, entries: list[tuple[str, dict]]) -> int:
        """Append ``entries`` to their days' files, fsync'ed, then move the cursor past them."""
        private_dir(self.archive_dir)
        by_day: dict[str, list[str]] = {}
        for entry_id, fields in entries:
            day = instant_of(entry_id).date().isoformat()
            by_day.setdefault(day, []).append(json.dumps({"id": entry_id, "fields": fields}, ensure_ascii=False))
        for day, lines in by_day.items():
            append_lines(self.archive_dir / f"{stream}-{day}.jsonl", lines)
        self.streams.set_archive_cursor(stream, entries[-1][0])
        return len(entries)

    def run(self, stop: threading.Event) -> None:
        """``run_once`` now and every ``interval`` seconds until ``stop`` is set; a failed run is logged and
        tried again at the next interval (nothing is trimmed that was not archived)."""
        run_every(stop, self.interval, self.run_once, "record retention (nothing trimmed that was not archived)", log)


def read_archive(archive_dir: Path, stream: str) -> list[tuple[str, dict]]:
    """Every archived ``(id, fields)`` of ``stream``, oldest first, each id once (files are at-least-once)."""
    seen: dict[str, dict] = {}
    for path in sorted(Path(archive_dir).glob(f"{stream}-*.jsonl")):
        with open(path, encoding="utf-8") as archive:
            for line in archive:
                if line.strip():
                    item = json.loads(line)
                    seen.setdefault(item["id"], item["fields"])
    return sorted(seen.items(), key=lambda kv: stream_id_key(kv[0]))
