"""Cursors on Redis streams: the newest id, and whether a client's cursor can still be followed.

A cursor is a stream id (``<milliseconds>-<sequence>``). Following resumes
strictly after it; if entries after it were trimmed (the stream is capped),
or the stream never reached it, following cannot be exact and the client must
reload everything (``CursorTooOld``).
"""
from __future__ import annotations

from alerts.core.events import stream_id_key
from alerts.store.client import Client, text


def newest_id(client: Client, stream: str) -> str:
    """The id of the newest entry of ``stream`` (``0-0`` when it is empty or missing)."""
    newest = client.xrevrange(stream, count=1)
    return text(newest[0][0]) if newest else "0-0"


class CursorTooOld(Exception):
    """The events after this cursor were trimmed from the stream, or the stream never reached it;
    reload everything instead."""


def check_cursor(client: Client, stream: str, cursor: str) -> None:
    """Raise ``CursorTooOld`` if entries after ``cursor`` were trimmed or ``cursor`` is beyond the newest."""
    if cursor in ("0", "0-0"):
        return
    oldest = client.xrange(stream, count=1)
    if oldest and stream_id_key(text(oldest[0][0])) > stream_id_key(cursor):
        raise CursorTooOld("cursor trimmed")  # entries after the cursor were trimmed
    if stream_id_key(cursor) > stream_id_key(newest_id(client, stream)):
        raise CursorTooOld("cursor ahead of the stream")
