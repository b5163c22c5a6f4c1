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
- **Behind**: a stream whose oldest waiting batch is more than ``max_lag``
  seconds old (default ``MAX_LAG_SECONDS``; ``CRISIS_LIVE_MAX_LAG``) has its
  backlog dropped and sends ``event: rebuild`` (``{"reason", "limit",
  "max_lag"}``) and ends, as for a replay past its cap; more than
  ``QUEUE_LIMIT`` waiting batches end the stream (the browser reconnects and
  replays). See ``dashboard.live.fanout.Inbox``.
- **State sources** (``Source.opening``; the critical alarm): a frame that is
  the whole current state of something the events change. Sent once as the
  stream opens, then at most once per batch (its last), without ``id:``; the
  event ids (and so ``Last-Event-ID``) name only the other sources' cursors.
- **Shared frames**: a live event's frame is built once per group of streams
  that see the same thing (``Source.key``: equal keys on one fan-out must mean
  equal ``frame`` results, so the key holds everything ``frame`` depends on:
  for alerts and assets, the viewer's ``restricted`` query, i.e. its filters,
  nation and clearance), by the first stream of the group that reaches the
  event; the others send the same text with their own ``id:``. A frame is
  judged against the read model when that first stream builds it; a later
  change of the alert comes to every stream of the group as its own event
  (``withdraw`` once releasability narrows). Replayed events (after a cursor)
  are framed for each stream alone. The frames of one batch go out as one write.

``valid_cursor`` tells a stream id from anything else (the route answers 422).
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass

from alerts.core.events import stream_id_key
from alerts.store.client import UNAVAILABLE
from alerts.store.streams import CursorTooOld
from dashboard.live.fanout import MAX_LAG_SECONDS, QUEUE_LIMIT, Batch, Clock, FanOut, Inbox
from dashboard.live.limits import SUPERSEDED_RETRY_MS, Lease
from dashboard.outage import LiveStatus

#: Default seconds between pings on a quiet stream (``CRISIS_LIVE_PING``).
PING_SECONDS = 15.0
#: At most this many events per source are replayed after a cursor; more gets ``event: rebuild``.
REPLAY_LIMIT = 10_000
_STREAM_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
SUPERSEDED_FRAME = (f"event: superseded\nretry: {SUPERSEDED_RETRY_MS}\n"
                    f"data: {json.dumps({'reason': 'a newer live stream of this user took its place'})}\n\n")
PING_FRAME = "event: ping\ndata: {}\n\n"

#: What a source's ``frame`` gives for an event: ``(event name, data text)``, or None to send nothing.
Frame = tuple[str, str] | None
#: A frame as a group shares it: ``("event: <name>\n", "data: ...\n...\n")``; each stream puts its ``id:`` between.
Shared = tuple[str, str] | None


@dataclass
class Source:
    """One events stream a live stream follows: its fan-out, how to read its events after a cursor
    (``load_backlog(cursor, count)``, raising ``CursorTooOld``), where to start (``cursor``, a stream id),
    ``frame``, which turns one of its events into ``(event name, data)`` or None (not for this browser), and
    ``key``, the group whose streams share each live event's frame: streams with equal keys on one fan-out must
    get equal frames, so ``key`` must hold everything ``frame`` depends on (see the module docstring)."""

    fanout: FanOut
    load_backlog: Callable[[str, int], list]
    cursor: str
    frame: Callable[[object], Frame]
    key: Hashable
    #: Set for a **state source** (the critical alarm): each of its frames is the whole current state of
    #: something derived from the events, not an event. It is not resumed (its cursor is not part of the event
    #: id and nothing is replayed): the stream opens with ``opening()`` (the state now), and of each batch only
    #: the last frame is sent; its frames carry no ``id:``.
    opening: Callable[[], Frame] | None = None

    @property
    def is_state(self) -> bool:
        """Whether this is a state source (``opening``)."""
        return self.opening is not None


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


def shared_frame(framed: Frame) -> Shared:
    """``framed`` split around where the ``id:`` goes: ``head + f"id: {id}\\n" + tail`` is ``sse_frame``."""
    if framed is None:
        return None
    name, data = framed
    return f"event: {name}\n", "".join(f"data: {line}\n" for line in data.splitlines() or [""]) + "\n"


def _rebuild(reason: str, **more) -> str:
    return sse_frame("rebuild", json.dumps({"reason": reason, "limit": REPLAY_LIMIT, **more}))


async def sse_events(
    sources: list[Source],
    is_disconnected: Callable[[], "asyncio.Future[bool]"],
    recheck: Callable[[], Awaitable[bool]] | None = None,
    recheck_every: float = 2.0,
    lease: Lease | None = None,
    ping_every: float = PING_SECONDS,
    max_lag: float = MAX_LAG_SECONDS,
    clock: Clock = time.monotonic,
) -> AsyncIterator[str]:
    """The SSE body for one browser: the events of ``sources`` after their cursors (replayed, at most
    ``REPLAY_LIMIT`` each), then live ones, with ``event: ping`` every ``ping_every`` seconds of quiet.

    ``recheck`` answers whether the caller is still authorised (asked every ``recheck_every`` seconds).
    ``lease`` is given back when the stream ends; once it is superseded the stream sends
    ``SUPERSEDED_FRAME`` and ends. A stream more than ``max_lag`` seconds behind its fan-outs (``clock``: theirs,
    monotonic seconds) sends ``event: rebuild`` and ends (``dashboard.live.fanout.Inbox``).
    """
    inbox = Inbox(QUEUE_LIMIT, max_lag, clock)
    # subscribed before the replay, so nothing falls between
    subscribers = [source.fanout.subscribe(inbox, tag) for tag, source in enumerate(sources)]
    if lease is not None:
        lease.on_superseded(inbox.stop)
    cursors = [source.cursor for source in sources]
    checked = time.monotonic()

    def event_id() -> str:
        return ",".join(c for c, source in zip(cursors, sources) if not source.is_state)

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

    def send_state(tag: int, batch: Batch) -> str:
        """A state source's last frame of the batch (built from the last event that has one), without id."""
        source = sources[tag]
        shared = batch.frames_of(source.key)
        statuses = "".join(sse_frame("status", json.dumps(e.data)) for e in batch.events
                           if isinstance(e, LiveStatus)) if tag == 0 else ""  # once: as send_batch
        for index in range(len(batch.events) - 1, -1, -1):
            event = batch.events[index]
            if isinstance(event, LiveStatus):
                continue
            try:
                framed = shared[index]
            except KeyError:
                framed = shared.setdefault(index, shared_frame(source.frame(event)))
            if framed is not None:
                return statuses + framed[0] + framed[1]
        return statuses

    def send_batch(tag: int, batch: Batch) -> str:
        """The batch's events for this stream, as one text: each frame from the group's shared ones."""
        source, parts = sources[tag], []
        if source.is_state:
            return send_state(tag, batch)
        shared = batch.frames_of(source.key)
        for index, event in enumerate(batch.events):
            if isinstance(event, LiveStatus):
                if tag == 0:  # every fan-out carries it: send it once
                    parts.append(sse_frame("status", json.dumps(event.data)))
                continue
            if stream_id_key(event.event_id) <= stream_id_key(cursors[tag]):
                continue
            cursors[tag] = event.event_id
            try:
                framed = shared[index]
            except KeyError:
                framed = shared.setdefault(index, shared_frame(source.frame(event)))
            if framed is not None:
                parts.append(f"{framed[0]}id: {event_id()}\n{framed[1]}")
        return "".join(parts)

    def ended() -> str | None:
        """What the stream sends as it ends because its inbox closed ("" for nothing), or None: it goes on."""
        if inbox.stopped:
            return "" if lease is None or lease.ending else SUPERSEDED_FRAME
        if inbox.behind:
            return _rebuild(f"more than {max_lag:g} s behind the live feed", max_lag=max_lag)
        if inbox.overflowed:
            return ""  # the browser reconnects and replays from its last id
        return None

    try:
        yield "retry: 1000\n\n"
        for tag, source in enumerate(sources):
            if source.opening is not None:
                if (opened := source.opening()) is not None:
                    yield sse_frame(*opened)
                continue
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
            item = await inbox.get(max(wait, 0.01))
            if (last_words := ended()) is not None:
                if last_words:
                    yield last_words
                return
            if item is None:
                continue
            if text := send_batch(*item):
                yield text
                last = time.monotonic()
    finally:
        for source, subscriber in zip(sources, subscribers):
            source.fanout.unsubscribe(subscriber)
        if lease is not None:
            lease.close()
