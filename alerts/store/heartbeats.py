"""Worker heartbeats and inbox figures in Redis: what ``/api/v1/health`` reports.

Each ingest worker writes ``{state, beat, error, since, stream, host, pid,
counts}`` to the hash ``Keys.workers`` under its name,
``<consumer>/<pid>/<role>`` (``dashboard.services``), at most once a second
while it runs (``beat`` and ``since`` are epoch seconds; ``state`` is
``running`` or ``retrying`` with the ``error``; ``counts`` are the messages it
handled since it started: ``stored``, ``duplicates`` (the same alert again,
or a repeat report), ``dead_letters``, and for assets ``skipped_older``
(updates older than the record)), and removes its entry when it stops
cleanly; so the entry of a worker that died keeps its last beat, and health
names it (``alerts.actions.health``).

When a worker starts (its first beat) it clears what dead runs left behind:
the entries of the **same consumer and role** under another pid (a worker
killed and restarted on the same host: the consumer name is the host's, so
the old one cannot still be running there; a live sibling process sharing
the name writes its entry back within a second) and every entry silent for
more than ``PRUNE_AFTER_SECONDS`` (one day: a host that is gone). A worker
that stopped beating and was not restarted keeps its entry for that day,
so health reports it. ``inbox_figures`` reads what the consumer group of an
inbox stream owes: pending entries, the idle time of the oldest, and the lag
(entries not yet delivered); work left behind by a pruned worker still shows
there (pending too long, or waiting with no live worker).
"""
from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable

import redis

from alerts.store.client import UNAVAILABLE, Client, text
from alerts.store.keys import Keys

#: A beat is written at most this often (seconds).
BEAT_INTERVAL = 1.0
#: An entry silent this long (seconds; one day) is removed when any worker starts.
PRUNE_AFTER_SECONDS = 24 * 3600.0


def consumer_and_role(name: str) -> tuple[str, str] | None:
    """``(consumer, role)`` of a worker name ``<consumer>/<pid>/<role>``; None for a name of another form."""
    parts = name.rsplit("/", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], parts[2]


class Heartbeat:
    """The heartbeat of one worker (``name``, ``<consumer>/<pid>/<role>``, unique per process and role)."""

    def __init__(self, client: Client, keys: Keys, name: str, stream: str, *,
                 clock: Callable[[], float] = time.time):
        self.client = client
        self.keys = keys
        self.name = name
        self.stream = stream
        self.clock = clock
        self._last = 0.0
        self._state = ""
        self._since = clock()
        self._started = False
        #: What the worker handled since it started (module docstring); written with the next beat.
        self.counts: dict[str, int] = {}

    def count(self, **figures: int) -> None:
        """Add ``figures`` (``stored=3, duplicates=1``...) to ``counts``; they are written with the next beat."""
        for name, value in figures.items():
            self.counts[name] = self.counts.get(name, 0) + value

    def beat(self, state: str = "running", error: str = "", force: bool = False) -> None:
        """Record that the worker is alive in ``state``; a lost connection is ignored (health sees the gap).

        The first beat first clears the entries of dead runs (``replace_dead``)."""
        now = self.clock()
        if not self._started:
            try:
                self.replace_dead(now)
                self._started = True
            except UNAVAILABLE:
                pass
        if state != self._state:
            self._since, force = now, True
        if not force and now - self._last < BEAT_INTERVAL:
            return
        self._state, self._last = state, now
        entry = {"state": state, "beat": now, "since": self._since, "error": error[:500], "stream": self.stream,
                 "host": socket.gethostname(), "pid": os.getpid(), "counts": dict(self.counts)}
        try:
            self.client.hset(self.keys.workers, self.name, json.dumps(entry))
        except UNAVAILABLE:
            pass

    def replace_dead(self, now: float) -> list[str]:
        """Remove the entries of this worker's consumer and role under other names (other pids), and those
        silent for more than ``PRUNE_AFTER_SECONDS`` (module docstring); returns the names removed."""
        mine = consumer_and_role(self.name)
        gone = []
        for name, raw in workers(self.client, self.keys).items():
            if name == self.name:
                continue
            if (mine is not None and consumer_and_role(name) == mine) or \
                    now - float(raw.get("beat", 0)) > PRUNE_AFTER_SECONDS:
                gone.append(name)
        if gone:
            self.client.hdel(self.keys.workers, *gone)
        return gone

    def stop(self) -> None:
        """Remove the entry (a clean stop is not a dead worker)."""
        try:
            self.client.hdel(self.keys.workers, self.name)
        except UNAVAILABLE:
            pass


def workers(client: Client, keys: Keys) -> dict[str, dict]:
    """Every worker's last heartbeat, by name (an entry that is not a JSON object reads as ``{}``)."""
    entries = {}
    for name, raw in client.hgetall(keys.workers).items():
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = {}
        entries[text(name)] = entry if isinstance(entry, dict) else {}
    return entries


def inbox_figures(client: Client, stream: str, group: str) -> dict:
    """``{"pending", "oldest_pending_s", "lag"}`` of one consumer group (zeros when it does not exist yet).

    ``lag`` is what Redis/Valkey 7+ report in ``XINFO GROUPS`` (entries not yet
    delivered to the group); None where the server does not report it.
    """
    try:
        summary = client.xpending(stream, group)
    except redis.ResponseError:  # no such stream or group yet: nothing owed
        return {"pending": 0, "oldest_pending_s": 0.0, "lag": 0}
    pending = int(summary["pending"]) if summary else 0
    oldest = 0.0
    if pending:
        first = client.xpending_range(stream, group, min="-", max="+", count=1)
        oldest = first[0]["time_since_delivered"] / 1000 if first else 0.0
    lag = None
    for info in client.xinfo_groups(stream):
        if text(info.get("name", b"")) == group:
            lag = info.get("lag")
    return {"pending": pending, "oldest_pending_s": round(oldest, 1), "lag": lag}
