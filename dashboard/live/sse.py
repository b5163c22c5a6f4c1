"""Server-sent events (the WHATWG HTML "server-sent events" format) for one browser.

``sse_events`` is the body of every live stream: the events after the
browser's cursor are replayed from the stream first (page by page, however
many there are), then live ones follow; each event is sent at most once per
connection, in stream order (ids are events-stream ids, compared
numerically). A cursor trimmed from the stream, or one the stream never
reached, gets ``event: reload``; a quiet stream gets a comment every
``KEEPALIVE_SECONDS`` so proxies keep it open and a gone browser is noticed.
Every ``recheck_every`` seconds the stream asks whether its caller is still
authorised (``dashboard.auth.recheck``); if not, it sends ``event: revoked``
and ends (the page reloads under its new rights, or goes to sign-in).
``valid_cursor`` tells a stream id from anything else (the route answers 422).
Degraded mode: a ``LiveStatus`` in the fan-out is sent as ``event: status``
(``{"state": "live" | "disconnected", "since", "since_label", "reason"}``,
``dashboard.outage``), without an id; while Redis is unreachable the re-check
is skipped (nothing new can be read either), and the stream stays open, so it
goes on from its cursor when Redis returns.
A stream holds a ``Lease`` (``dashboard.live.limits``); when a newer stream of
the same user pushes it out, it sends ``event: superseded`` with a day-long
``retry`` and ends.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from alerts.core.events import stream_id_key
from alerts.store.client import UNAVAILABLE
from alerts.store.streams import CursorTooOld
from dashboard.live.fanout import FanOut
from dashboard.outage import LiveStatus
from dashboard.live.limits import SUPERSEDED_RETRY_MS, Lease

KEEPALIVE_SECONDS = 15.0
#: Events read from the stream per replay page.
REPLAY_PAGE = 10_000
_STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
#: The batch a superseded stream finds in its queue.
_SUPERSEDED: list = []
SUPERSEDED_FRAME = (f"event: superseded\nretry: {SUPERSEDED_RETRY_MS}\n"
                    f"data: {json.dumps({'reason': 'a newer live stream of this user took its place'})}\n\n")


def valid_cursor(value: str) -> bool:
    """Whether ``value`` is a Redis stream id (``<ms>-<seq>`` or ``<ms>``)."""
    return bool(_STREAM_ID.match(value))


def sse_frame(event: str, data: str, event_id: str | None = None) -> str:
    """One server-sent event: ``event:``, optional ``id:``, one ``data:`` line per line of ``data``."""
    lines = [f"event: {event}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


async def sse_events(
    fanout: FanOut,
    load_backlog: Callable[[str], list],
    after: str,
    frame: Callable[[object], str | None],
    is_disconnected: Callable[[], "asyncio.Future[bool]"],
    recheck: Callable[[], Awaitable[bool]] | None = None,
    recheck_every: float = 2.0,
    lease: Lease | None = None,
) -> AsyncIterator[str]:
    """The SSE body for one browser: the events after ``after`` (replayed), then live ones.

    ``load_backlog(cursor, count)`` reads at most ``count`` events after a
    cursor (it raises ``CursorTooOld`` for a cursor trimmed away or never
    reached); ``frame`` turns an event into an SSE frame, or None for one
    this browser may not see or did not ask for. ``recheck`` answers whether
    the caller is still authorised (asked every ``recheck_every`` seconds). ``lease`` is given back when the
    stream ends; once it is superseded the stream sends ``SUPERSEDED_FRAME`` and ends.
    """
    subscriber = fanout.subscribe()  # before the replay, so nothing falls between
    if lease is not None:
        lease.on_superseded(lambda: subscriber.offer(_SUPERSEDED))
    checked = time.monotonic()

    async def revoked() -> bool:
        nonlocal checked
        if recheck is None or time.monotonic() - checked < recheck_every:
            return False
        checked = time.monotonic()
        try:
            return not await recheck()
        except UNAVAILABLE:  # Redis is away: ask again at the next interval
            return False

    try:
        cursor = after
        yield "retry: 1000\n\n"
        while True:
            try:
                backlog = await asyncio.to_thread(load_backlog, cursor, REPLAY_PAGE)
            except CursorTooOld as exc:
                yield sse_frame("reload", json.dumps({"reason": str(exc) or "cursor unknown"}))
                return
            for event in backlog:
                cursor = event.event_id
                if (text := frame(event)) is not None:
                    yield text
            if lease is not None and lease.superseded:
                yield SUPERSEDED_FRAME
                return
            if len(backlog) < REPLAY_PAGE:
                break
        quiet = 0.0
        wait = min(KEEPALIVE_SECONDS, recheck_every) if recheck is not None else KEEPALIVE_SECONDS
        while True:
            if await revoked():
                yield sse_frame("revoked", json.dumps({"reason": "signed out, revoked or changed rights"}))
                return
            try:
                events = await asyncio.wait_for(subscriber.queue.get(), wait)
            except TimeoutError:
                quiet += wait
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    if await is_disconnected():
                        return
                    yield ": keepalive\n\n"
                continue
            quiet = 0.0
            if events is _SUPERSEDED:
                yield SUPERSEDED_FRAME
                return
            if subscriber.overflowed:
                return  # the browser reconnects and replays from its last id
            for event in events:
                if isinstance(event, LiveStatus):
                    yield sse_frame("status", json.dumps(event.data))
                    continue
                if stream_id_key(event.event_id) <= stream_id_key(cursor):
                    continue
                cursor = event.event_id
                if (text := frame(event)) is not None:
                    yield text
    finally:
        fanout.unsubscribe(subscriber)
        if lease is not None:
            lease.close()
