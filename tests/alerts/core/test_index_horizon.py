"""The read model's horizon: closed alerts leave memory once closed longer than it (``AlertIndex(horizon=...)``)."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.core.events import ALERT_CREATED, ALERT_UPDATED, AlertEvent
from alerts.core.index import AlertIndex, stream_time
from alerts.core.model import Status
from alerts.core.query import AlertQuery
from tests.alerts.core.test_index_query import T0, stored

MS = int(T0.timestamp() * 1000)  # stream ids at T0 + n ms: "<MS + n>-0"


def at(seconds: float, seq: int = 0) -> str:
    """The stream id given ``seconds`` after T0."""
    return f"{MS + int(seconds * 1000)}-{seq}"


def afresh(index: AlertIndex) -> pd.DataFrame:
    """The table an index without a horizon builds from the alerts ``index`` holds, in its order."""
    other = AlertIndex()
    other.load([index.get(i) for i in index.table()["id"]], "0-0")
    return other.table()


def test_hzn001_a_closed_alert_leaves_memory_once_closed_longer_than_the_horizon_open_ones_stay():
    index = AlertIndex(horizon=timedelta(seconds=60))
    index.load([stored("old-open"), stored("a"), stored("b")], at(0))
    index.apply(AlertEvent(at(1), ALERT_UPDATED, stored("a", status=Status.RESOLVED)))
    index.apply(AlertEvent(at(30), ALERT_UPDATED, stored("b", status=Status.CANCELLED)))
    index.apply(AlertEvent(at(60), ALERT_CREATED, stored("c")))
    assert sorted(index.table()["id"]) == ["a", "b", "c", "old-open"]  # a closed 59 s ago: still held

    index.apply(AlertEvent(at(65), ALERT_CREATED, stored("d")))  # a: closed 64 s before (the batch's slack: 3 s)
    assert sorted(index.table()["id"]) == ["b", "c", "d", "old-open"]
    assert index.get("a") is None and index.evicted == 1
    assert ids_closed(index) == ["b"]
    pd.testing.assert_frame_equal(index.table(), afresh(index))  # rows and positions agree after the drop

    index.apply(AlertEvent(at(66), ALERT_UPDATED, stored("c", title="c changed")))  # the right row changes
    assert index.table().set_index("id").loc["c", "title"] == "c changed"
    index.apply(AlertEvent(at(200), ALERT_CREATED, stored("e")))
    assert sorted(index.table()["id"]) == ["c", "d", "e", "old-open"]  # open alerts stay, however old
    pd.testing.assert_frame_equal(index.table(), afresh(index))


def ids_closed(index: AlertIndex) -> list[str]:
    return sorted(index.select(AlertQuery(status="closed"))["id"])


def test_hzn002_an_alert_not_held_is_fetched_by_id_and_a_late_change_brings_it_back():
    store = {"a": stored("a", status=Status.RESOLVED)}  # what the store still has
    index = AlertIndex(horizon=timedelta(seconds=10), fetch=store.get)
    index.load([stored("a")], at(0))
    index.apply(AlertEvent(at(1), ALERT_UPDATED, store["a"]))
    index.apply(AlertEvent(at(20), ALERT_CREATED, stored("b")))
    assert "a" not in set(index.table()["id"]) and len(index) == 1
    assert index.get("a") == store["a"]  # by id: from the store
    assert index.get("a", AlertQuery(nation="RS")) is not None  # released to ALL
    assert index.get("missing") is None
    without = AlertIndex(horizon=timedelta(seconds=10))
    without.load([], at(0))
    assert without.get("a") is None

    late = stored("a", status=Status.RESOLVED, title="escalated after all")
    index.apply(AlertEvent(at(21), ALERT_UPDATED, late))  # an event about it: held again, for a horizon
    assert index.get("a") == late and "a" in set(index.table()["id"])
    index.apply(AlertEvent(at(40), ALERT_CREATED, stored("c")))
    assert "a" not in set(index.table()["id"])


def test_hzn003_a_load_leaves_out_closed_alerts_received_longer_than_the_horizon_before_the_cursor():
    old, recent = T0, T0 + timedelta(hours=2)
    alerts = [stored("closed-old", status=Status.RESOLVED).model_copy(update={"received_at": old}),
              stored("open-old").model_copy(update={"received_at": old}),
              stored("closed-recent", status=Status.EXPIRED).model_copy(update={"received_at": recent})]
    index = AlertIndex(horizon=timedelta(hours=1))
    index.load(alerts, f"{int((recent + timedelta(minutes=30)).timestamp() * 1000)}-0")
    assert sorted(index.table()["id"]) == ["closed-recent", "open-old"]
    everything = AlertIndex()
    everything.load(alerts, "0-0")
    assert len(everything) == 3  # without a horizon, everything is held


def test_hzn004_stream_time_reads_the_milliseconds_of_a_stream_id():
    assert stream_time(at(1.5, seq=7)) == T0 + timedelta(seconds=1.5)
    assert stream_time("0-0").year == 1970


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=60))
def test_hzn005_under_a_steady_flow_what_is_held_is_the_open_alerts_and_those_closed_within_the_horizon(steps):
    """Each step: some seconds pass, an alert opens, and maybe the oldest open one closes. Whatever the
    order, the index holds exactly the open alerts plus those closed within the horizon (and its batch's
    slack), and its table is the one built afresh."""
    horizon = timedelta(seconds=20)
    index = AlertIndex(horizon=horizon)
    index.load([], "0-0")
    now, opened, closed_at = 0, [], {}
    for n, (gap, close) in enumerate(steps):
        now += gap
        index.apply(AlertEvent(at(now, 2 * n), ALERT_CREATED, stored(f"x{n}")))
        opened.append(f"x{n}")
        if close:
            victim = opened.pop(0)
            index.apply(AlertEvent(at(now, 2 * n + 1), ALERT_UPDATED, stored(victim, status=Status.RESOLVED)))
            closed_at[victim] = now
        held = set(index.table()["id"])
        assert set(opened) <= held
        slack = horizon.total_seconds() / 20
        for victim, closed in closed_at.items():
            if now - closed < horizon.total_seconds():
                assert victim in held
            elif now - closed > horizon.total_seconds() + slack:
                assert victim not in held
        assert held == set(index._alerts)
    pd.testing.assert_frame_equal(index.table(), afresh(index))


def test_hzn003_a_horizon_reaching_back_before_year_1_keeps_everything_instead_of_failing():
    span = timedelta(days=800_000)  # about 2,190 years: before year 1 from any stream time of this era
    index = AlertIndex(horizon=span)
    index.load([stored("open"), stored("closed", status=Status.RESOLVED)], at(0))  # load's cutoff
    index.apply(AlertEvent(at(1), ALERT_UPDATED, stored("open", status=Status.CANCELLED)))  # eviction's cutoff
    index.apply(AlertEvent(at(10), ALERT_CREATED, stored("later")))
    assert sorted(index.table()["id"]) == ["closed", "later", "open"] and index.evicted == 0


def test_hzn006_held_since_follows_the_clock_and_the_horizon_never_what_left():
    """It was set only once an alert had left, so a nation saw that another's hidden alert was evicted."""
    index = AlertIndex(horizon=timedelta(seconds=60))
    index.load([stored("a")], at(90.5))
    assert index.held_since == T0.replace(second=0) and index.evicted == 0  # (T0 + 30.5 s, to the minute)
    assert AlertIndex().held_since is None


def test_hzn007_an_identifier_not_held_takes_its_place_among_the_rows_newest_first():
    """Two alerts held carry producer id ``x`` under suffixed keys; the alert keyed ``x`` itself left memory: a
    search for the identifier lists all three, newest report first, without reading each row's record."""
    def under(key: str, minutes: int):
        return stored("x", reported_at=T0 + timedelta(minutes=minutes)).model_copy(update={"key": key})

    store = {"x": stored("x", reported_at=T0 + timedelta(minutes=5))}
    index = AlertIndex(horizon=timedelta(seconds=10), fetch=store.get)
    index.load([under("x~1", 10), under("x~2", 0)], at(0))
    reads: list[str] = []
    index.get = lambda alert_id, query=None, get=index.get: reads.append(alert_id) or get(alert_id, query)
    found = index.search(AlertQuery(identifier="x"))
    assert [a.id for a in found.alerts] == ["x~1", "x", "x~2"] and found.total == 3
    assert reads == ["x"]  # the one not held, once
