"""The record's pure replay: checkpoints give the same picture as applying every event; order; exercise."""
from __future__ import annotations

import random
from datetime import timedelta

from alerts.core.record import (
    RecordEvent,
    parsed_alert,
    Replay,
    instant_of,
    merge,
    names_exercise,
    state_at,
)
from tests.conftest import make_alert, make_asset


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


def _stored(alert_id: str, status: str = "new", nations: tuple[str, ...] = ("ALL",)):
    from alerts.core.model import Alert, Placement, StoredAlert

    alert = Alert.model_validate(make_alert(id=alert_id, releasable_to=list(nations)))
    return StoredAlert(alert=alert, placement=Placement(), received_at=alert.reported_at, status=status)


def _mixed_events(n: int, seed: int) -> list[RecordEvent]:
    """Alert records (a few versions each), acknowledgments (some twice) and asset positions, in order."""
    rng = random.Random(seed)
    versions = {f"al-{k}": [_stored(f"al-{k}", s) for s in ("new", "acknowledged", "resolved")] for k in range(40)}
    events = []
    for i in range(n):
        event_id, pick = f"{1_700_000_000_000 + i * 5}-{i % 2}", rng.random()
        alert_id = f"al-{rng.randrange(40)}"
        if pick < 0.5:
            kind = rng.choice(["alert.created", "alert.updated"])
            events.append(RecordEvent.of_alert(event_id, kind, rng.choice(versions[alert_id])))
        elif pick < 0.75:
            events.append(RecordEvent(event_id, "audit", "alert.acknowledge", actor=f"u{i}", object=alert_id))
        else:
            asset = make_asset(f"a{rng.randrange(10)}", 44 + rng.random(), 20 + rng.random())
            events.append(RecordEvent(event_id, "assets", "asset.updated", object=asset.id, asset=asset))
    return events


def test_rec006_checkpoints_of_changes_give_the_whole_picture_alerts_first_acks_and_assets_included():
    """Each checkpoint holds only what its events changed; merged, they give exactly what applying every
    event gives: the last record of each alert and asset, and the *first* acknowledgment, even when the
    first and a later one fall in different checkpoints; also after late events and a drop."""
    events = _mixed_events(1_500, seed=11)
    replay = Replay(every=64)
    replay.extend(events[::2])
    replay.checkpoint()
    replay.extend(events[1::2])  # late events: the checkpoints after the first are made again
    assert [e.order for e in replay.events] == [e.order for e in events]
    rng = random.Random(2)
    for _ in range(25):
        at = instant_of(rng.choice(events).id)
        got, want = replay.state_at(at), state_at(events, at)
        assert dict(got.alerts) == dict(want.alerts) and got.events == want.events
        assert got.acks == want.acks and got.assets == want.assets and got.applied == want.applied
    acked_twice = [e.object for e in events if e.kind == "alert.acknowledge"]
    assert len(acked_twice) > len(set(acked_twice))  # the case of a first acknowledgment standing is met
    replay.drop_before(events[700].id)
    at = instant_of(events[-1].id)
    assert replay.state_at(at).acks == state_at(events, at).acks


def test_rec007_an_alert_event_holds_its_record_as_json_and_parses_it_when_asked():
    stored = _stored("al-x", "acknowledged", ("MK", "RS"))
    event = RecordEvent.of_alert("1-0", "alert.updated", stored)
    assert isinstance(event.record, bytes) and event.object == "al-x" and event.routing == stored.routing
    assert event.alert == stored and event.alert_ids == ("al-x",)
    assert event.record == stored.model_dump_json().encode("utf-8") and len(event.packed) < len(event.record) / 3
    assert event.alert is parsed_alert(event.packed)  # parsed once, then kept
    assert not hasattr(event, "__dict__")  # slots: no per-event dict
