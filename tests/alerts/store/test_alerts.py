"""AlertStore against a real Redis: exactly-once records, the events stream, cursors."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import redis

from alerts.formats.decode import decode_alert
from alerts.core.events import ALERT_CREATED, ALERT_UPDATED, stream_id_key
from alerts.core.model import Placement, Status, StoredAlert
from alerts.store.alerts import AlertStore
from alerts.store.streams import CursorTooOld
from tests.conftest import make_alert, payload

RECEIVED = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def stored_alert(**overrides) -> StoredAlert:
    """A placed alert as ingest makes it, ``key`` set as recording sets it for a unique id."""
    alert = decode_alert(payload(make_alert(**overrides)))
    lon, lat = alert.point()
    return StoredAlert(
        key=alert.id,
        alert=alert,
        placement=Placement(country="MK", country_name="North Macedonia", countries=["MK"]),
        received_at=RECEIVED,
        lon=lon,
        lat=lat,
    )


@pytest.fixture
def store(client, keys) -> AlertStore:
    return AlertStore(client, keys)


def test_sto001_record_stores_once_and_announces_it(store, client, keys):
    stored = stored_alert()
    result = store.record(stored)
    assert result.alert_id == stored.id
    assert not result.duplicate and result.event_id
    assert store.get(stored.id) == stored
    assert client.exists(keys.alert(stored.id)) == 1
    events = store.events_since("0-0")
    assert [(e.event_id, e.kind, e.alert) for e in events] == [(result.event_id, ALERT_CREATED, stored)]
    assert store.last_event_id() == result.event_id


def test_sto002_same_id_twice_is_one_alert_and_one_event(store, client, keys):
    first = stored_alert(title="First report")
    again = stored_alert(id=first.id, title="Second copy, different text")
    assert not store.record(first).duplicate
    second = store.record(again)
    assert second.duplicate and second.event_id is None
    assert store.get(first.id).alert.title == "First report"  # the repeat changed nothing
    assert client.xlen(keys.events) == 1
    assert [e.kind for e in store.events_since("0-0")] == [ALERT_CREATED]


def test_sto003_same_id_from_eight_threads_is_one_alert_and_one_event(redis_url, client, keys):
    alert_id = f"race-{keys.prefix}"
    start = threading.Barrier(8)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        own = redis.Redis.from_url(redis_url)
        try:
            candidate = stored_alert(id=alert_id, title=f"from thread {n}")
            own_store = AlertStore(own, keys)
            start.wait(timeout=10)
            results[n] = own_store.record(candidate)
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert len(results) == 8
    winners = [n for n, r in results.items() if not r.duplicate]
    assert len(winners) == 1, f"{len(winners)} threads believe they stored the alert"
    assert client.xlen(keys.events) == 1
    store = AlertStore(client, keys)
    (event,) = store.events_since("0-0")
    assert event.kind == ALERT_CREATED
    assert event.event_id == results[winners[0]].event_id
    assert event.alert.alert.title == f"from thread {winners[0]}"
    assert store.get(alert_id).alert.title == f"from thread {winners[0]}"
    assert list(client.scan_iter(match=keys.alert_pattern)) == [keys.alert(alert_id).encode()]


def test_sto004_record_many_with_a_repeat_inside_the_batch(store, client, keys):
    a, b = stored_alert(), stored_alert()
    results = store.record_many([a, b, stored_alert(id=a.id, title="repeat")])
    assert [r.duplicate for r in results] == [False, False, True]
    assert [r.alert_id for r in results] == [a.id, b.id, a.id]
    assert client.xlen(keys.events) == 2
    assert store.get_many([a.id, "missing", b.id]) == [a, None, b]
    assert sorted(s.id for s in store.all_alerts(batch=1)) == sorted([a.id, b.id])
    assert store.record_many([]) == []


def test_sto005_update_rewrites_and_appends_alert_updated(store, client, keys):
    stored = stored_alert()
    created = store.record(stored).event_id
    acknowledged = stored.model_copy(update={"status": Status.ACKNOWLEDGED})
    updated = store.update(acknowledged)
    assert updated and stream_id_key(updated) > stream_id_key(created)
    assert store.get(stored.id).status is Status.ACKNOWLEDGED
    events = store.events_since("0-0")
    assert [(e.event_id, e.kind) for e in events] == [(created, ALERT_CREATED), (updated, ALERT_UPDATED)]
    assert events[1].alert == acknowledged


def test_sto006_update_of_an_unknown_alert_does_nothing(store, client, keys):
    ghost = stored_alert()
    assert store.update(ghost) is None
    assert store.get(ghost.id) is None
    assert client.exists(keys.alert(ghost.id)) == 0
    assert client.xlen(keys.events) == 0


def test_sto007_events_since_returns_events_strictly_after_the_cursor_in_order(store):
    alerts = [stored_alert(title=f"alert {n}") for n in range(6)]
    ids = [store.record(a).event_id for a in alerts]
    assert ids == sorted(ids, key=stream_id_key)
    after = store.events_since(ids[2])
    assert [e.event_id for e in after] == ids[3:]
    assert [e.alert.id for e in after] == [a.id for a in alerts[3:]]
    assert [e.event_id for e in store.events_since("0-0")] == ids
    assert [e.event_id for e in store.events_since("0")] == ids
    assert store.events_since(ids[-1]) == []
    assert [e.event_id for e in store.events_since(ids[0], count=2)] == ids[1:3]


def test_sto008_cursor_trimmed_away_raises_cursor_too_old(client, keys):
    store = AlertStore(client, keys, events_maxlen=5)
    alerts = [stored_alert() for _ in range(10)]
    ids = [store.record(a).event_id for a in alerts]
    client.xtrim(keys.events, maxlen=3, approximate=False)  # what MAXLEN ~ does to a busy stream
    assert client.xlen(keys.events) == 3
    for stale in (ids[0], ids[5]):
        with pytest.raises(CursorTooOld):
            store.events_since(stale)
    # A cursor at the oldest surviving event is still good; so is a full reload from 0.
    assert [e.event_id for e in store.events_since(ids[7])] == ids[8:]
    assert [e.event_id for e in store.events_since("0-0")] == ids[7:]
    # Alert records themselves are never trimmed.
    assert store.get_many([a.id for a in alerts]) == alerts


def test_sto009_last_event_id_of_an_empty_stream_is_zero(store):
    assert store.last_event_id() == "0-0"
    assert store.events_since("0-0") == []
