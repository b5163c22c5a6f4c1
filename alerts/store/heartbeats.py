"""Worker heartbeats and inbox figures in Redis: what ``/api/v1/health`` reports.

Each ingest worker writes ``{state, beat, error, since, stream, host, pid}``
to the hash ``Keys.workers`` under its name at most once a second while it
runs (``beat`` and ``since`` are epoch seconds; ``state`` is ``running`` or
``retrying`` with the ``error``), and removes its entry when it stops cleanly;
so the entry of a worker that died keeps its last beat. ``inbox_figures``
reads what the consumer group of an inbox stream owes: pending entries, the
idle time of the oldest, and the lag (entries not yet delivered).
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


class Heartbeat:
    """The heartbeat of one worker (``name`` unique per process and role)."""

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

    def beat(self, state: str = "running", error: str = "", force: bool = False) -> None:
        """Record that the worker is alive in ``state``; a lost connection is ignored (health sees the gap)."""
        now = self.clock()
        if state != self._state:
            self._since, force = now, True
        if not force and now - self._last < BEAT_INTERVAL:
            return
        self._state, self._last = state, now
        entry = {"state": state, "beat": now, "since": self._since, "error": error[:500], "stream": self.stream,
                 "host": socket.gethostname(), "pid": os.getpid()}
        try:
            self.client.hset(self.keys.workers, self.name, json.dumps(entry))
        except UNAVAILABLE:
            pass

    def stop(self) -> None:
        """Remove the entry (a clean stop is not a dead worker)."""
        try:
            self.client.hdel(self.keys.workers, self.name)
        except UNAVAILABLE:
            pass


def workers(client: Client, keys: Keys) -> dict[str, dict]:
    """Every worker's last heartbeat, by name."""
    return {text(name): json.loads(raw) for name, raw in client.hgetall(keys.workers).items()}


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
