"""The fan-out and each stream's bounded inbox (``dashboard.live.fanout``): by size and by age (time injected),
through ``sse_events`` as a route runs it; a slow stream gets ``rebuild`` and does not hold the others back."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

import dashboard.live.sse as sse
from dashboard.live.fanout import Batch, FanOut, Inbox
from dashboard.live.sse import Source, sse_events
from tests.conftest import run_async


class Clock:
    """Monotonic seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _event(n: int) -> SimpleNamespace:
    return SimpleNamespace(event_id=f"{n}-0", n=n)


def _source(fanout: FanOut) -> Source:
    return Source(fanout, lambda cursor, count: [], "0-0", lambda event: ("alert", json.dumps({"n": event.n})),
                  key="everyone")


async def _never_disconnected() -> bool:
    return False


def _stream(fanout: FanOut, clock: Clock, max_lag: float = 30.0):
    return sse_events([_source(fanout)], _never_disconnected, max_lag=max_lag, clock=clock, ping_every=3600)


def _events(text: str) -> list[tuple[str, dict]]:
    """``(event name, data)`` of each frame in ``text``."""
    found = []
    for frame in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


async def _settle() -> None:
    """Let the fan-out's ``call_soon_threadsafe`` offers run."""
    for _ in range(3):
        await asyncio.sleep(0)


def test_fan001_a_stream_that_falls_behind_gets_rebuild_its_backlog_dropped_and_others_get_everything():
    async def main():
        clock = Clock()
        fanout = FanOut(clock=clock)
        fast, slow = _stream(fanout, clock), _stream(fanout, clock)
        assert await anext(fast) == await anext(slow) == "retry: 1000\n\n"  # both subscribed
        got = []
        for n, at in ((1, 0.0), (2, 10.0), (3, 31.0), (4, 45.0)):
            clock.now = 1000.0 + at
            fanout.publish([_event(n)])
            await _settle()
            got += _events(await anext(fast))
            if n == 2:
                assert fanout.waiting == 2  # the slow stream's two batches, 10 s apart
        # batch 1 (published at 0 s) waited 31 s when batch 3 came: the slow stream's backlog went at once
        assert fanout.waiting == 0
        assert got == [("alert", {"n": n}) for n in (1, 2, 3, 4)]  # the fast stream missed nothing meanwhile
        (name, data), = _events(await anext(slow))
        assert name == "rebuild" and data["max_lag"] == 30.0 and "behind" in data["reason"]
        with pytest.raises(StopAsyncIteration):
            await anext(slow)
        assert len(fanout) == 1  # the slow stream let go of the fan-out
        await fast.aclose()
        assert len(fanout) == 0

    run_async(main)


def test_fan002_a_stream_reading_an_old_batch_rebuilds_even_when_nothing_new_arrives():
    """The age is also checked as the stream reads: a batch older than ``max_lag`` is not sent."""
    async def main():
        clock = Clock()
        fanout = FanOut(clock=clock)
        stream = _stream(fanout, clock, max_lag=5)
        await anext(stream)
        fanout.publish([_event(1)])
        await _settle()
        clock.now += 5.5
        (name, data), = _events(await anext(stream))
        assert name == "rebuild" and data["max_lag"] == 5

    run_async(main)


def test_fan003_within_the_lag_a_backlog_is_delivered_in_order():
    async def main():
        clock = Clock()
        fanout = FanOut(clock=clock)
        stream = _stream(fanout, clock)
        await anext(stream)
        for n in range(1, 6):
            clock.now += 5  # the first waits 25 s: within 30
            fanout.publish([_event(n)])
        await _settle()
        got = []
        while len(got) < 5:
            got += _events(await anext(stream))
        assert got == [("alert", {"n": n}) for n in range(1, 6)]

    run_async(main)


def test_fan004_past_the_size_limit_the_backlog_is_dropped_and_the_stream_ends_for_a_replay(monkeypatch):
    """As before the age bound: overflow ends the stream quietly (the browser reconnects with its last id)."""
    monkeypatch.setattr(sse, "QUEUE_LIMIT", 3)

    async def main():
        clock = Clock()
        fanout = FanOut(clock=clock)
        stream = _stream(fanout, clock)
        await anext(stream)
        for n in range(1, 5):
            fanout.publish([_event(n)])
        await _settle()
        assert fanout.waiting == 0
        with pytest.raises(StopAsyncIteration):
            await anext(stream)

    run_async(main)


def test_fan005_an_inbox_refuses_a_lag_of_zero_and_takes_nothing_once_closed():
    with pytest.raises(ValueError, match="above 0"):
        Inbox(max_lag=0)
    inbox = Inbox(limit=10, max_lag=1, clock=lambda: 100.0)
    inbox.put(0, Batch([_event(1)], published=98.0))  # already 2 s old
    assert inbox.behind and len(inbox) == 0
    inbox.put(0, Batch([_event(2)], published=100.0))
    assert len(inbox) == 0
