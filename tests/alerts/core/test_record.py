"""The record's pure replay: checkpoints give the same picture as applying every event; order; exercise."""
from __future__ import annotations

import random
from datetime import timedelta

from alerts.core.record import (
    RecordEvent,
    Replay,
    instant_of,
    merge,
    names_exercise,
    state_at,
)
from tests.conftest import make_asset


def _asset_events(n: int, seed: int = 7) -> list[RecordEvent]:
    rng = random.Random(seed)
    events = []
    for i in range(n):
        asset = make_asset(f"a{rng.randrange(20)}", 44 + rng.random(), 20 + rng.random())
        events.append(RecordEvent(f"{1_700_000_000_000 + i * 7}-{i % 3}", "assets", "asset.updated",
                                  object=asset.id, asset=asset))
    return events


def test_rec001_checkpointed_replay_equals_applying_every_event_at_any_moment():
    events = _asset_events(2_500)
    replay = Replay(every=100)
    replay.extend(events)
    rng = random.Random(1)
    for _ in range(30):
        at = instant_of(rng.choice(events).id) + timedelta(milliseconds=rng.choice([-1, 0, 3]))
        assert replay.state_at(at).assets == state_at(events, at).assets


def test_rec002_events_arriving_out_of_order_are_placed_in_order_and_checkpoints_redone():
    events = _asset_events(500)
    replay = Replay(every=50)
    replay.extend(events[:400])
    replay.state_at(instant_of(events[399].id))  # builds checkpoints
    late = [e for e in events[400:]]
    early = RecordEvent(f"{1_700_000_000_000 + 10 * 7}-5", "audit", "alert.acknowledge", actor="u", object="x")
    replay.extend(late + [early, early])
    assert [e.order for e in replay.events] == sorted(e.order for e in [*events, early])
    at = instant_of(events[-1].id)
    assert replay.state_at(at).acks["x"].by == "u"
    assert replay.state_at(at).assets == state_at(events, at).assets


def test_rec003_merge_orders_by_stream_id_then_stream():
    a = RecordEvent("5-0", "audit", "alert.acknowledge", object="x")
    b = RecordEvent("5-0", "alerts", "alert.updated", object="x")
    c = RecordEvent("4-9", "assets", "asset.updated", object="y")
    assert merge([a], [b, ], [c]) == [c, b, a]


def test_rec004_exercise_events_are_its_control_and_its_inject_alerts():
    assert names_exercise(RecordEvent("1-0", "audit", "exercise.start", object="ex-1"), "ex-1")
    assert names_exercise(RecordEvent("1-0", "audit", "alert.acknowledge", object="ex-1.inject-3"), "ex-1")
    assert not names_exercise(RecordEvent("1-0", "audit", "alert.acknowledge", object="ex-10.inject-3"), "ex-1")


def test_rec005_dropping_old_events_keeps_the_picture_they_built():
    events = _asset_events(1_200)
    replay = Replay(every=100)
    replay.extend(events)
    at = instant_of(events[-1].id)
    whole = replay.state_at(at).assets
    replay.drop_before(events[700].id)
    assert len(replay) == 500 and replay.state_at(at).assets == whole
    assert replay.folded_until == instant_of(events[699].id)
    assert replay.state_at(instant_of(events[900].id)).assets == state_at(events, instant_of(events[900].id)).assets
