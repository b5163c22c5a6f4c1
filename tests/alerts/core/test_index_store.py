"""The read model without held records (``AlertIndex(fetch_many=...)``, a server's index): records are read from
the store by id, a page in one round trip, and every answer is the one an index holding them gives."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pandas as pd

from alerts.actions.visibility import _shown, released_now
from alerts.core.events import ALERT_CREATED, ALERT_UPDATED, AlertEvent
from alerts.core.index import FETCH_CHUNK, AlertIndex
from alerts.core.model import Routing, Severity, Status
from alerts.core.query import AlertQuery, Page
from tests.alerts.core.test_index_query import T0, stored
from tests.conftest import make_asset


class Store:
    """A store of records by id that counts the round trips made to it."""

    def __init__(self, alerts=()):
        self.records = {a.id: a for a in alerts}
        self.trips: list[list[str]] = []

    def put(self, *alerts):
        self.records.update({a.id: a for a in alerts})

    def get(self, alert_id):
        self.trips.append([alert_id])
        return self.records.get(alert_id)

    def get_many(self, alert_ids):
        self.trips.append(list(alert_ids))
        return [self.records.get(i) for i in alert_ids]


def sample(n: int = 120):
    return [stored(f"s-{k:03d}", severity=[s.value for s in Severity][k % 4], reported_at=T0 + timedelta(minutes=k),
                   countries=(("MK",), ("RS", "BA"), ())[k % 3], status=list(Status)[k % len(Status)],
                   releasable_to=(["ALL"], ["RS", "HU"], None)[k % 3], title=f"alert {k}")
            for k in range(n)]


def both(alerts, cursor="100-0"):
    """An index holding the records and one reading them from a ``Store`` of the same alerts."""
    held, store = AlertIndex(), Store(alerts)
    fetched = AlertIndex(fetch=store.get, fetch_many=store.get_many)
    held.load(alerts, cursor)
    fetched.load(alerts, cursor)
    store.trips.clear()
    return held, fetched, store


QUERIES = [AlertQuery(), AlertQuery(nation="RS"), AlertQuery(nation="MK", status="open"),
           AlertQuery(severities=frozenset({"critical", "high"})), AlertQuery(nation="GR", unrouted=True),
           AlertQuery(countries=frozenset({"BA"}), exercise="real")]


def test_mem001_records_not_held_come_back_from_the_store_identical_to_held_ones():
    alerts = sample()
    held, fetched, _ = both(alerts)
    assert not fetched.holds_records and held.holds_records
    assert len(fetched) == len(held) == len(alerts)
    for query in QUERIES:
        pd.testing.assert_frame_equal(fetched.select(query), held.select(query))
        for page in (Page(limit=50), Page(limit=50, offset=50), Page(limit=7, offset=113)):
            assert fetched.search(query, page) == held.search(query, page)
        for alert in alerts[:30]:
            assert fetched.get(alert.id, query) == held.get(alert.id, query)
    assert fetched.get_many([a.id for a in alerts]) == alerts == held.get_many([a.id for a in alerts])
    assert fetched.get("missing") is None and fetched.get_many(["missing", alerts[0].id]) == [None, alerts[0]]


def test_mem002_a_page_of_fifty_is_one_round_trip_to_the_store():
    alerts = sample()
    _, fetched, store = both(alerts)
    result = fetched.search(AlertQuery(), Page(limit=50))
    assert len(result.alerts) == 50 and len(store.trips) == 1 and len(store.trips[0]) == 50
    store.trips.clear()
    assert fetched.get_many([a.id for a in alerts[:50]]) == alerts[:50]
    assert store.trips == [[a.id for a in alerts[:50]]]
    store.trips.clear()
    many = [f"x-{k}" for k in range(FETCH_CHUNK + 1)]
    assert fetched.get_many(many) == [None] * len(many)
    assert [len(trip) for trip in store.trips] == [FETCH_CHUNK, 1]


def test_mem003_events_change_what_comes_back_and_the_horizon_still_evicts():
    store = Store()
    index = AlertIndex(horizon=timedelta(seconds=10), fetch=store.get, fetch_many=store.get_many)
    a = stored("a")
    store.put(a)
    index.load([a], "1714564800000-0")  # (T0)
    changed = stored("a", title="changed", status=Status.RESOLVED)
    store.put(changed)  # the store is written first, then the event is applied
    index.apply(AlertEvent("1714564801000-0", ALERT_UPDATED, changed))
    assert index.get("a") == changed and list(index.select(AlertQuery(status="closed"))["title"]) == ["changed"]
    b = stored("b")
    store.put(b)
    index.apply(AlertEvent("1714564900000-0", ALERT_CREATED, b))
    assert list(index.table()["id"]) == ["b"] and len(index) == 1 and index.evicted == 1
    assert index.get("a") == changed  # no longer held: still read from the store


def test_mem004_a_record_narrowed_in_the_store_before_its_event_is_not_listed_to_whom_it_no_longer_goes():
    wide = stored("w", releasable_to=["ALL"])
    _, fetched, store = both([wide])
    store.put(wide.model_copy(update={"routing": Routing(releasable_to=["MK"])}))  # (its event not applied yet)
    assert fetched.search(AlertQuery(nation="RS")).alerts == []
    assert fetched.get("w", AlertQuery(nation="RS")) is None
    assert [s.id for s in fetched.search(AlertQuery(nation="MK")).alerts] == ["w"]


def test_mem005_release_checks_of_held_alerts_read_no_record():
    alerts = [stored("all", releasable_to=["ALL"]), stored("rs", releasable_to=["RS"])]
    _, fetched, store = both(alerts)
    centre = SimpleNamespace(index=fetched)
    assert released_now(centre, AlertQuery(nation="RS"), "rs") and not released_now(centre, AlertQuery(nation="MK"),
                                                                                      "rs")
    asset = make_asset("a1", 42.0, 21.4, nation="MK", status="committed", assigned_to="rs")
    assert _shown(centre, AlertQuery(nation="RS"), asset).assigned_to == "rs"
    assert _shown(centre, AlertQuery(nation="MK"), asset).assigned_to is None
    assert store.trips == []
    assert released_now(centre, AlertQuery(nation="MK"), "unknown")  # (not held: judged by its event)
