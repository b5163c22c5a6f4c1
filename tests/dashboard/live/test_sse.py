"""``dashboard.live.sse``: a live event's frame is built once per group of streams (``Source.key``), each stream
sending it with its own ``id:``; streams of other groups get their own frames (the HTTP-level check with real
nations and clearances is ``test_live_push.py::test_lpu013``)."""
from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

from dashboard.live.fanout import FanOut
from dashboard.live.sse import Source, shared_frame, sse_events, sse_frame
from tests.conftest import run_async


async def _never_disconnected() -> bool:
    return False


def _event(n: int) -> SimpleNamespace:
    return SimpleNamespace(event_id=f"{n}-0", n=n)


def test_sse001_a_live_event_is_framed_once_per_group_and_each_stream_sends_its_own_id():
    built = Counter()

    def framer(group: str):
        def frame(event):
            built[group] += 1
            return None if (group, event.n) == ("B", 2) else ("alert", json.dumps({"n": event.n, "for": group}))
        return frame

    async def main():
        alerts, assets = FanOut(), FanOut()

        def source(fanout: FanOut, group: str, cursor: str = "0-0") -> Source:
            return Source(fanout, lambda c, count: [], cursor, framer(group), key=group)

        streams = [sse_events([source(alerts, group)], _never_disconnected, ping_every=3600)
                   for group in ("A", "A", "A", "B")]
        # a map-like stream: the same alert group A, plus assets; its ids are "<alerts id>,<assets id>"
        streams.append(sse_events([source(alerts, "A"), source(assets, "X", "7-0")], _never_disconnected,
                                  ping_every=3600))
        for stream in streams:
            await anext(stream)  # subscribed
        alerts.publish([_event(1), _event(2)])
        texts = [await anext(stream) for stream in streams]
        for stream in streams:
            await stream.aclose()
        return texts

    texts = run_async(main)
    assert built == {"A": 2, "B": 2}  # two events, two groups: four frames for five streams, not ten
    a = sse_frame("alert", json.dumps({"n": 1, "for": "A"}), "1-0") + sse_frame("alert", json.dumps(
        {"n": 2, "for": "A"}), "2-0")
    assert texts[:3] == [a, a, a]
    assert texts[3] == sse_frame("alert", json.dumps({"n": 1, "for": "B"}), "1-0")  # B's frame; nothing for 2
    assert texts[4] == a.replace("id: 1-0", "id: 1-0,7-0").replace("id: 2-0", "id: 2-0,7-0")


def test_sse002_a_shared_frame_is_sse_frame_split_around_its_id():
    for data in ('{"id": "x"}', "two\nlines", ""):
        head, tail = shared_frame(("update", data))
        assert head + "id: 5-1\n" + tail == sse_frame("update", data, "5-1")
    assert shared_frame(None) is None


def test_sse003_a_replayed_event_is_framed_for_its_stream_and_not_sent_again_live():
    """A stream that replays events after its cursor frames them itself; the same events arriving live are not
    sent twice (cursor order), and the next live one is shared as usual."""
    built = Counter()

    def frame(event):
        built[event.n] += 1
        return "alert", json.dumps({"n": event.n})

    async def main():
        fanout = FanOut()
        stream = sse_events([Source(fanout, lambda c, count: [_event(1)], "0-0", frame, key="A")],
                            _never_disconnected, ping_every=3600)
        await anext(stream)
        fanout.publish([_event(1), _event(2)])
        got = [await anext(stream), await anext(stream)]
        await stream.aclose()
        return got

    replayed, live = run_async(main)
    assert replayed == sse_frame("alert", json.dumps({"n": 1}), "1-0")
    assert live == sse_frame("alert", json.dumps({"n": 2}), "2-0")
    assert built == {1: 1, 2: 1}


def test_sse004_a_state_source_opens_with_its_state_sends_one_frame_per_batch_and_no_id():
    """The alarm's kind of source: its opening frame first; of a batch, only the last frame (built from the last
    event that has one, once per group); never an ``id:``, and the other source's ids leave it out."""
    built = Counter()

    def state(event=None):
        built["opening" if event is None else event.n] += 1
        return None if event is not None and event.n == 3 else ("alarm", json.dumps({"at": getattr(event, "n", 0)}))

    async def main():
        alerts = FanOut()
        sources = [Source(alerts, lambda c, count: [], "0-0", lambda e: ("alert", json.dumps({"n": e.n})), key="A"),
                   Source(alerts, lambda c, count: [], "", state, key="S", opening=state)]
        stream = sse_events(sources, _never_disconnected, ping_every=3600)
        first = [await anext(stream), await anext(stream)]  # retry, then the opening state
        alerts.publish([_event(1), _event(2), _event(3)])
        live = [await anext(stream), await anext(stream)]
        await stream.aclose()
        return first, live

    (retry, opening), live = run_async(main)
    assert opening == sse_frame("alarm", json.dumps({"at": 0}))
    assert sorted(live, key=lambda t: t.startswith("event: alarm")) == [
        "".join(sse_frame("alert", json.dumps({"n": n}), f"{n}-0") for n in (1, 2, 3)),
        sse_frame("alarm", json.dumps({"at": 2}))]  # event 3 changes no state: event 2's is the batch's last
    assert built == {"opening": 1, 3: 1, 2: 1}  # framed from the end until one answered
