"""Server-sent events (the WHATWG HTML "server-sent events" format) for one browser.

``sse_events`` is the body of every live stream. A stream follows one or more
``Source`` (an events stream: alerts, assets); the map's ``/live/map`` follows
both in one connection, so a map tab holds one HTTP connection, not one per
events stream (a browser keeps at most six HTTP/1.1 connections per host).

- **Replay, capped**: the events after the browser's cursor are replayed
  first, at most ``REPLAY_LIMIT`` per source. More than that (e.g. a cursor
  of ``0-0`` on a long stream), or a cursor older than the stream keeps
  (trimmed), gets ``event: rebuild`` (``{"reason", "limit"}``) and the stream
  ends: the client rebuilds its picture (the map re-runs its build; an API
  client reads ``/api/v1/alerts``) and opens a new stream from the cursor that
  build gives. A cursor the stream never reached (ahead of it: the store was
  replaced) gets ``event: reload``.
- **Live**: then live events follow, each sent at most once per connection, in
  stream order (ids are events-stream ids, compared numerically). An event's
  ``id:`` is its source's cursor, or, for a stream of several sources, every
  source's cursor joined by ``,`` (``<alerts id>,<assets id>``): the browser
  sends it back as ``Last-Event-ID`` and the stream resumes each source exactly.
- **Ping**: a quiet stream sends ``event: ping`` (``data: {}``, no id) every
  ``ping_every`` seconds (default ``PING_SECONDS``; ``CRISIS_LIVE_PING``). It is
  a real event, not a comment, so the page sees it: the map marks its feed stale
  and reconnects when neither an event nor a ping came for three intervals
  (``assets/live.js``), so a dead connection never looks live. Each ping also
  notices a gone browser.
- Every ``recheck_every`` seconds the stream asks whether its caller is still
  authorised (``dashboard.auth.recheck``); if not, it sends ``event: revoked``
  and ends (the page reloads under its new rights, or goes to sign-in).
- Degraded mode: a ``LiveStatus`` in the fan-out is sent as ``event: status``
  (``{"state": "live" | "disconnected", "since", "since_label", "reason"}``,
  ``dashboard.outage``), without an id; while Redis is unreachable the re-check
  is skipped (nothing new can be read either), and the stream stays open, so it
  goes on from its cursor when Redis returns.
- A stream holds a ``Lease`` (``dashboard.live.limits``); when a newer stream of
  the same user pushes it out, it sends ``event: superseded`` with a day-long
  ``retry`` and ends.

``valid_cursor`` tells a stream id from anything else (the route answers 422).
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from alerts.core.events import stream_id_key
from alerts.store.client import UNAVAILABLE
from alerts.store.streams import CursorTooOld
from dashboard.live.fanout import QUEUE_LIMIT, FanOut
from dashboard.live.limits import SUPERSEDED_RETRY_MS, Lease
from dashboard.outage import LiveStatus

#: Default seconds between pings on a quiet stream (``CRISIS_LIVE_PING``).
PING_SECONDS = 15.0
#: At most this many events per source are replayed after a cursor; more gets ``event: rebuild``.
REPLAY_LIMIT = 10_000
_STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
#: The batch a superseded stream finds in its queue.
_SUPERSEDED: list = []
SUPERSEDED_FRAME = (f"event: superseded\nretry: {SUPERSEDED_RETRY_MS}\n"
                    f"data: {json.dumps({'reason': 'a newer live stream of this user took its place'})}\n\n")
PING_FRAME = "event: ping\ndata: {}\n\n"

#: What a source's ``frame`` gives for an event: ``(event name, data text)``, or None to send nothing.
Frame = tuple[str, str] | None


@dataclass
class Source:
    """One events stream a live stream follows: its fan-out, how to read its events after a cursor
    (``load_backlog(cursor, count)``, raising ``CursorTooOld``), where to start (``cursor``, a stream id),
    and ``frame``, which turns one of its events into ``(event name, data)`` or None (not for this browser)."""

    fanout: FanOut
    load_backlog: Callable[[str, int], list]
    cursor: str
    frame: Callable[[object], Frame]


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


def _rebuild(reason: str) -> str:
    return sse_frame("rebuild", json.dumps({"reason": reason, "limit": REPLAY_LIMIT}))


async def sse_events(
    sources: list[Source],
    is_disconnected: Callable[[], "asyncio.Future[bool]"],
    recheck: Callable[[], Awaitable[bool]] | None = None,
    recheck_every: float = 2.0,
    lease: Lease | None = None,
    ping_every: float = PING_SECONDS,
) -> AsyncIterator[str]:
    """The SSE body for one browser: the events of ``sources`` after their cursors (replayed, at most
    ``REPLAY_LIMIT`` each), then live ones, with ``event: ping`` every ``ping_every`` seconds of quiet.

    ``recheck`` answers whether the caller is still authorised (asked every ``recheck_every`` seconds).
    ``lease`` is given back when the stream ends; once it is superseded the stream sends
    ``SUPERSEDED_FRAME`` and ends.
    """
    queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_LIMIT)
    # subscribed before the replay, so nothing falls between
    subscribers = [source.fanout.subscribe(queue, tag) for tag, source in enumerate(sources)]
    if lease is not None:
        lease.on_superseded(lambda: subscribers[0].offer(_SUPERSEDED))
    cursors = [source.cursor for source in sources]
    checked = time.monotonic()

    def event_id() -> str:
        return ",".join(cursors)

    async def revoked() -> bool:
        nonlocal checked
        if recheck is None or time.monotonic() - checked < recheck_every:
            return False
        checked = time.monotonic()
        try:
            return not await recheck()
        except UNAVAILABLE:  # Redis is away: ask again at the next interval
            return False

    def send(tag: int, event) -> str | None:
        cursors[tag] = event.event_id
        framed = sources[tag].frame(event)
        return sse_frame(framed[0], framed[1], event_id()) if framed is not None else None

    try:
        yield "retry: 1000\n\n"
        for tag, source in enumerate(sources):
            try:
                backlog = await asyncio.to_thread(source.load_backlog, cursors[tag], REPLAY_LIMIT + 1)
            except CursorTooOld as exc:
                reason = str(exc) or "cursor unknown"
                yield sse_frame("reload", json.dumps({"reason": reason})) if "ahead" in reason else _rebuild(reason)
                return
            if len(backlog) > REPLAY_LIMIT:
                yield _rebuild(f"more than {REPLAY_LIMIT} events to replay")
                return
            for event in backlog:
                if (text := send(tag, event)) is not None:
                    yield text
            if lease is not None and (lease.superseded or lease.ending):
                if not lease.ending:
                    yield SUPERSEDED_FRAME
                return
        last = time.monotonic()  # when this browser last heard from us
        while True:
            if await revoked():
                yield sse_frame("revoked", json.dumps({"reason": "signed out, revoked or changed rights"}))
                return
            if time.monotonic() - last >= ping_every:
                if await is_disconnected():
                    return
                yield PING_FRAME
                last = time.monotonic()
            wait = ping_every - (time.monotonic() - last)
            if recheck is not None:
                wait = min(wait, recheck_every)
            try:
                tag, events = await asyncio.wait_for(queue.get(), max(wait, 0.01))
            except TimeoutError:
                continue
            if events is _SUPERSEDED:
                if lease is None or not lease.ending:
                    yield SUPERSEDED_FRAME
                return  # superseded, or the server stops: the browser reconnects
            if any(subscriber.overflowed for subscriber in subscribers):
                return  # the browser reconnects and replays from its last id
            for event in events:
                if isinstance(event, LiveStatus):
                    if tag == 0:  # every fan-out carries it: send it once
                        yield sse_frame("status", json.dumps(event.data))
                        last = time.monotonic()
                    continue
                if stream_id_key(event.event_id) <= stream_id_key(cursors[tag]):
                    continue
                if (text := send(tag, event)) is not None:
                    yield text
                    last = time.monotonic()
    finally:
        for source, subscriber in zip(sources, subscribers):
            source.fanout.unsubscribe(subscriber)
        if lease is not None:
            lease.close()
