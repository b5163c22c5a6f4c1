"""Reading the record from its streams on a real Redis: what an alert event holds, and what the record costs."""
from __future__ import annotations

import gc
import tracemalloc

from alerts.core.model import Alert, Placement, StoredAlert
from alerts.core.record import Replay
from alerts.store.record import RecordStreams
from tests.conftest import make_alert

#: What one alert event may cost in memory, read and checkpointed (bytes); a parsed ``StoredAlert`` alone
#: is about 5,400, and whole-picture checkpoints added about 1,000 an event per 10,000 alerts held.
EVENT_MOST = 1_000  # 1,491 B with each record's JSON held as is; 696 B packed (alerts.core.packing)


def _record(centre, n: int, **overrides) -> list[StoredAlert]:
    stored = [StoredAlert(alert=Alert.model_validate(make_alert(id=f"rs-{i:05d}", **overrides)),
                          placement=Placement(), received_at=overrides.get("reported_at") or "2026-01-01T00:00:00Z")
              for i in range(n)]
    centre.alerts.record_many(stored)
    return stored


def test_rst001_an_alert_event_keeps_the_stored_json_its_id_and_a_shared_routing(client, keys, centre):
    stored = _record(centre, 3, releasable_to=["MK", "RS"])
    events, _ = RecordStreams(client, keys).read("alerts")
    assert [e.object for e in events] == [s.id for s in stored]
    raw = [fields[b"alert"] for _, fields in client.xrange(keys.events)]
    assert [e.record for e in events] == raw  # the bytes as stored, not a parsed copy
    assert [e.alert for e in events] == [StoredAlert.from_json(r) for r in raw]
    assert events[0].routing.releasable_to == ["MK", "RS"]
    assert events[0].routing is events[1].routing is events[2].routing  # equal routings: one object


def test_rst002_a_record_of_alerts_costs_about_its_json_in_memory_not_parsed_objects_or_picture_copies(
        client, keys, centre):
    """The scale issue: a server holds the record from its start. Read and checkpointed (every 100 events:
    before, each checkpoint copied the whole picture), 3,000 alert events cost under ``EVENT_MOST`` bytes each."""
    _record(centre, 3_000)
    streams = RecordStreams(client, keys)
    gc.collect()
    tracemalloc.start()
    try:
        events, _ = streams.read("alerts")
        replay = Replay(every=100)
        replay.extend(events)
        replay.checkpoint()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(replay) == 3_000
    assert held / 3_000 < EVENT_MOST, f"{held / 3_000:.0f} B per event"
    assert len(replay.state_through(3_000).alerts) == 3_000
