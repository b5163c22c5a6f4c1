"""The read model (AlertIndex), the shared filter (AlertQuery) and the summary figures."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.core.events import ALERT_CREATED, ALERT_UPDATED, AlertEvent
from alerts.core.index import AlertIndex
from alerts.core.model import Alert, AlertType, Placement, Region, Routing, Severity, Status, StoredAlert
from alerts.core.query import AlertQuery, Page
from alerts.core.situation import summarise
from tests.conftest import make_alert

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
_MISSING = object()


def stored(
    alert_id: str,
    *,
    severity: str = "high",
    type: str = "border_incident",
    countries: tuple[str, ...] = ("MK",),
    reported_at: datetime = T0,
    exercise: bool = False,
    status: Status = Status.NEW,
    source: str = "MK",
    releasable_to=_MISSING,
    title: str = "Test alert",
) -> StoredAlert:
    data = make_alert(
        id=alert_id,
        severity=severity,
        type=type,
        reported_at=reported_at.isoformat(),
        exercise=exercise,
        source=source,
        title=title,
    )
    if releasable_to is _MISSING:
        data["releasable_to"] = ["ALL"]
    elif releasable_to is None:
        del data["releasable_to"]
    else:
        data["releasable_to"] = releasable_to
    alert = Alert.model_validate(data)
    regions = [Region(code=f"{c}-01", name=f"{c} region", country=c) for c in countries[:1]]
    placement = Placement(
        country=countries[0] if countries else None,
        countries=list(countries),
        regions=regions,
    )
    return StoredAlert(alert=alert, placement=placement, received_at=T0, status=status, lon=21.43, lat=42.0)


def index_of(*alerts: StoredAlert, cursor: str = "100-0") -> AlertIndex:
    index = AlertIndex()
    index.load(alerts, cursor)
    return index


def ids(index: AlertIndex, query: AlertQuery) -> list[str]:
    return list(index.select(query)["id"])


# --- load / apply ----------------------------------------------------------------------


def test_idx001_load_fills_the_index_and_sets_the_cursor():
    a, b = stored("a"), stored("b", severity="low")
    index = index_of(a, b, cursor="1700000000000-3")
    assert len(index) == 2
    assert index.cursor == "1700000000000-3"
    assert index.get("a") == a and index.get("missing") is None
    assert sorted(index.table()["id"]) == ["a", "b"]


def test_idx002_apply_ignores_events_at_or_before_the_cursor():
    original = stored("a", title="original")
    index = index_of(original, cursor="1700000000000-5")
    version = index.version
    for old in ("1700000000000-5", "1700000000000-4", "1699999999999-99", "0-1"):
        replay = AlertEvent(old, ALERT_UPDATED, stored("a", title="replayed", status=Status.RESOLVED))
        assert index.apply(replay) is False
    assert index.apply(AlertEvent("1700000000000-2", ALERT_CREATED, stored("late"))) is False
    assert index.get("a").alert.title == "original"
    assert index.get("late") is None
    assert index.cursor == "1700000000000-5"
    assert index.version == version


def test_idx003_apply_adds_new_alerts_and_replaces_updated_ones():
    index = index_of(stored("a"), cursor="1700000000000-5")
    assert index.apply(AlertEvent("1700000000000-6", ALERT_CREATED, stored("b"))) is True
    resolved = stored("a", status=Status.RESOLVED, title="resolved now")
    # Numeric, not string, order: "...-10" is after "...-6".
    assert index.apply(AlertEvent("1700000000000-10", ALERT_UPDATED, resolved)) is True
    assert index.cursor == "1700000000000-10"
    assert len(index) == 2
    table = index.table()
    assert len(table) == 2
    row = table[table["id"] == "a"].iloc[0]
    assert row["status"] == "resolved" and not row["open"] and row["title"] == "resolved now"
    assert ids(index, AlertQuery(status="open")) == ["b"]
    assert index.apply(AlertEvent("1700000000000-9", ALERT_UPDATED, stored("a"))) is False


def test_idx004_select_sorts_newest_report_first_and_search_pages():
    alerts = [stored(f"a{n}", reported_at=T0 + timedelta(hours=n)) for n in range(5)]
    index = index_of(*alerts)
    assert ids(index, AlertQuery()) == ["a4", "a3", "a2", "a1", "a0"]
    page = index.search(AlertQuery(), Page(limit=2, offset=1))
    assert page.total == 5
    assert [s.id for s in page.alerts] == ["a3", "a2"]


# --- each filter ---------------------------------------------------------------------


def test_qry001_severity_filter():
    index = index_of(stored("c", severity="critical"), stored("h", severity="high"), stored("l", severity="low"))
    assert sorted(ids(index, AlertQuery(severities=frozenset({"critical", "low"})))) == ["c", "l"]
    assert ids(index, AlertQuery(severities=frozenset({"medium"}))) == []


def test_qry002_type_filter():
    index = index_of(stored("cy", type="cyber"), stored("hz", type="hazmat"), stored("bi"))
    assert ids(index, AlertQuery(types=frozenset({"cyber"}))) == ["cy"]
    assert sorted(ids(index, AlertQuery(types=frozenset({"hazmat", "border_incident"})))) == ["bi", "hz"]


def test_qry003_country_filter_matches_any_touched_country():
    index = index_of(
        stored("rs", countries=("RS",)),
        stored("area", countries=("MK", "XK", "AL")),
        stored("sea", countries=()),
    )
    assert sorted(ids(index, AlertQuery(countries=frozenset({"XK"})))) == ["area"]
    assert sorted(ids(index, AlertQuery(countries=frozenset({"RS", "AL"})))) == ["area", "rs"]
    assert ids(index, AlertQuery(countries=frozenset({"GR"}))) == []


def test_qry004_since_is_inclusive_and_until_exclusive():
    index = index_of(*[stored(f"h{n}", reported_at=T0 + timedelta(hours=n)) for n in range(4)])
    query = AlertQuery(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert ids(index, query) == ["h2", "h1"]
    # Offsets are honoured: 14:00+02:00 is 12:00 UTC.
    plus_two = timezone(timedelta(hours=2))
    assert ids(index, AlertQuery(since=datetime(2024, 5, 1, 15, 0, tzinfo=plus_two))) == ["h3", "h2", "h1"]
    assert ids(index, AlertQuery(until=datetime(2024, 5, 1, 14, 0, tzinfo=plus_two))) == []


def test_qry005_exercise_filter():
    index = index_of(stored("real"), stored("drill", exercise=True))
    assert ids(index, AlertQuery(exercise="real")) == ["real"]
    assert ids(index, AlertQuery(exercise="exercise")) == ["drill"]
    assert sorted(ids(index, AlertQuery(exercise="all"))) == ["drill", "real"]


def test_qry006_status_filter_open_and_closed():
    index = index_of(*[stored(status.value, status=status) for status in Status])
    assert sorted(ids(index, AlertQuery(status="open"))) == ["acknowledged", "in_progress", "new"]
    assert sorted(ids(index, AlertQuery(status="closed"))) == ["cancelled", "expired", "resolved"]
    assert len(ids(index, AlertQuery(status="all"))) == len(Status)


@pytest.fixture
def releasability_index() -> AlertIndex:
    return index_of(
        stored("rs-hu", source="RS", releasable_to=["RS", "HU"]),
        stored("all", source="GR", releasable_to=["ALL"]),
        stored("unset", source="MK", releasable_to=None),
    )


@pytest.mark.parametrize(
    ("nation", "expected"),
    [("RS", ["all", "rs-hu"]), ("HU", ["all", "rs-hu"]), ("GR", ["all"]), ("MK", ["all", "unset"]), ("AL", ["all"])],
)
def test_qry007_nation_sees_only_what_is_released_to_it(releasability_index, nation, expected):
    query = AlertQuery(nation=nation)
    assert sorted(ids(releasability_index, query)) == expected
    for alert_id in ("rs-hu", "all", "unset"):
        assert (releasability_index.get(alert_id, query) is not None) == (alert_id in expected)


def test_qry008_unrouted_alerts_match_only_the_unrouted_query(releasability_index):
    """An alert with no releasability is nobody's until released: only ``unrouted=True`` finds it."""
    unrouted = releasability_index.get("unset").model_copy(update={"routing": Routing(reason="no feed")})
    releasability_index.load([unrouted], releasability_index.cursor)
    for nation in ("RS", "MK", "GR"):
        assert "unset" not in ids(releasability_index, AlertQuery(nation=nation))
        assert releasability_index.get("unset", AlertQuery(nation=nation)) is None
    assert ids(releasability_index, AlertQuery(nation="GR", unrouted=True)) == ["unset"]
    assert releasability_index.get("unset", AlertQuery(nation="GR", unrouted=True)) is not None
    assert releasability_index.get("all", AlertQuery(unrouted=True)) is None


def test_qry008b_clearance_hides_alerts_above_it_in_table_and_lookup():
    levels = {"unmarked": None, "restricted": "RESTRICTED", "secret": "SECRET"}
    index = index_of(*[stored(name, releasable_to=["ALL"]).model_copy(update={"routing": Routing(
        releasable_to=["ALL"], classification=level)}) for name, level in levels.items()])
    cleared = frozenset({"", "UNCLASSIFIED", "RESTRICTED"})
    assert sorted(ids(index, AlertQuery(nation="RS", cleared=cleared))) == ["restricted", "unmarked"]
    assert index.get("secret", AlertQuery(nation="RS", cleared=cleared)) is None
    assert index.get("restricted", AlertQuery(nation="RS", cleared=cleared)) is not None


def test_qry009_no_nation_means_no_releasability_restriction(releasability_index):
    assert sorted(ids(releasability_index, AlertQuery())) == ["all", "rs-hu", "unset"]
    assert AlertQuery(nation="GR").with_nation(None) == AlertQuery()


def test_qry010_filters_combine_with_and():
    index = index_of(
        stored("match", severity="critical", type="cyber", countries=("RS",), exercise=False),
        stored("wrong-sev", severity="low", type="cyber", countries=("RS",)),
        stored("wrong-type", severity="critical", type="hazmat", countries=("RS",)),
        stored("wrong-country", severity="critical", type="cyber", countries=("GR",)),
        stored("drill", severity="critical", type="cyber", countries=("RS",), exercise=True),
        stored("closed", severity="critical", type="cyber", countries=("RS",), status=Status.RESOLVED),
        stored("secret", severity="critical", type="cyber", countries=("RS",), releasable_to=["HU"]),
    )
    query = AlertQuery(
        severities=frozenset({"critical"}), types=frozenset({"cyber"}), countries=frozenset({"RS"}),
        exercise="real", status="open", nation="RS",
    )
    assert ids(index, query) == ["match"]


# --- matches() and mask() agree --------------------------------------------------------

NATIONS = ["RS", "HU", "GR", "MK", "XK", "AL"]
OFFSETS = [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]


LEVELS = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"]


@st.composite
def stored_alerts(draw, alert_id: str) -> StoredAlert:
    releasable = draw(
        st.none()
        | st.just(["ALL"])
        | st.lists(st.sampled_from(NATIONS), min_size=1, max_size=3, unique=True)
    )
    moment = draw(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2024, 1, 3)))
    routing = Routing(releasable_to=draw(st.none() | st.just(releasable or ["ALL"])),
                      classification=draw(st.none() | st.sampled_from(LEVELS)))
    return stored(
        alert_id,
        severity=draw(st.sampled_from([s.value for s in Severity])),
        type=draw(st.sampled_from([t.value for t in AlertType])),
        countries=tuple(draw(st.lists(st.sampled_from(NATIONS), max_size=3, unique=True))),
        reported_at=moment.replace(tzinfo=draw(st.sampled_from(OFFSETS))),
        exercise=draw(st.booleans()),
        status=draw(st.sampled_from(list(Status))),
        source=draw(st.sampled_from(NATIONS)),
        releasable_to=releasable,
    ).model_copy(update={"routing": routing})


@st.composite
def alert_sets(draw) -> list[StoredAlert]:
    count = draw(st.integers(min_value=0, max_value=12))
    return [draw(stored_alerts(f"x{n}")) for n in range(count)]


def _subset(values):
    return st.frozensets(st.sampled_from(values), max_size=3)


bounds = st.none() | st.datetimes(min_value=datetime(2023, 12, 31), max_value=datetime(2024, 1, 4)).map(
    lambda d: d.replace(tzinfo=UTC)
)
queries = st.builds(
    AlertQuery,
    severities=_subset([s.value for s in Severity]),
    types=_subset([t.value for t in AlertType]),
    countries=_subset(NATIONS),
    since=bounds,
    until=bounds,
    exercise=st.sampled_from(["all", "real", "exercise"]),
    status=st.sampled_from(["all", "open", "closed"]),
    nation=st.none() | st.sampled_from(NATIONS),
    cleared=st.none() | st.frozensets(st.sampled_from(["", *LEVELS])),
    unrouted=st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts=alert_sets(), query=queries)
def test_qry020_matches_agrees_with_mask(alerts, query):
    index = index_of(*alerts)
    by_mask = set(index.select(query)["id"])
    by_matches = {s.id for s in alerts if query.matches(s)}
    assert by_mask == by_matches
    assert index.search(query, Page(limit=1000)).total == len(by_matches)


# --- summary -------------------------------------------------------------------------


def test_sum001_summarise_counts_a_known_set():
    index = index_of(
        stored("1", severity="critical", type="cyber", countries=("RS",)),
        stored("2", severity="critical", type="hazmat", countries=("RS",), status=Status.RESOLVED),
        stored("3", severity="high", type="cyber", countries=("XK", "MK"), exercise=True),
        stored("4", severity="low", type="other", countries=(), status=Status.CANCELLED, exercise=True),
        stored("5", severity="medium", type="cyber", countries=("AL",), status=Status.IN_PROGRESS),
    )
    summary = summarise(index.select(AlertQuery()))
    assert summary["total_alerts"] == 5
    assert summary["open_alerts"] == 3
    assert summary["exercise_alerts"] == 2
    assert summary["by_severity"] == {"critical": 2, "high": 1, "medium": 1, "low": 1}
    assert summary["open_by_severity"] == {"critical": 1, "high": 1, "medium": 1, "low": 0}
    assert summary["by_type"]["cyber"] == 3
    assert summary["by_type"]["hazmat"] == 1 and summary["by_type"]["other"] == 1
    assert sum(summary["by_type"].values()) == 5
    assert set(summary["by_type"]) == {t.value for t in AlertType}
    assert summary["by_country"] == {"AL": 1, "RS": 2, "XK": 1, "unplaced": 1}


def test_sum002_summarise_after_a_filter_that_matches_nothing():
    index = index_of(stored("1"), stored("2", severity="low"))
    summary = summarise(index.select(AlertQuery(nation="GR", severities=frozenset({"medium"}))))
    assert summary["total_alerts"] == 0 and summary["open_alerts"] == 0
    assert summary["by_severity"] == {s.value: 0 for s in Severity}
    assert summary["by_country"] == {}


def test_sum003_summarise_an_empty_index():
    # A fresh deployment has no alerts yet; the summary must be all zeros, not an error.
    summary = summarise(AlertIndex().select(AlertQuery()))
    assert summary["total_alerts"] == 0 and summary["open_alerts"] == 0 and summary["exercise_alerts"] == 0
    assert summary["open_by_severity"] == {s.value: 0 for s in Severity}
    assert summary["by_country"] == {}


def test_sum004_summarise_respects_releasability(releasability_index):
    summary = summarise(releasability_index.select(AlertQuery(nation="GR")))
    assert summary["total_alerts"] == 1


def test_idx005_the_table_kept_up_to_date_is_the_table_built_afresh():
    """Rows wait only until the table has them: whatever the order of loads, events and reads, the table equals
    one built from the same alerts at once."""
    index = index_of(stored("a"), stored("b"), cursor="1-0")
    index.table()
    events = [stored("c"), stored("a", status=Status.RESOLVED), stored("d"), stored("d", title="d again"),
              stored("b", severity="low"), stored("e", countries=("RS", "MK"))]
    for n, alert in enumerate(events, start=2):
        index.apply(AlertEvent(f"{n}-0", ALERT_UPDATED, alert))
        if n % 2:
            index.table()
    index.load([stored("f"), stored("c", title="c reloaded")], "9-0")
    final = {s.id: s for s in [stored("a"), stored("b"), *events, stored("f"), stored("c", title="c reloaded")]}
    pd.testing.assert_frame_equal(index.table(), index_of(*final.values()).table())
    assert list(index.table()["id"]) == ["a", "b", "c", "d", "e", "f"]


def test_idx006_alerts_read_back_share_their_fields_set_and_a_copy_gets_its_own():
    """Memory: pydantic's per-instance set of given field names is shared when every field was given (a stored
    record read back from JSON); it was 60 % of a read-model alert's size. A partly given model keeps its own."""
    a, b = (StoredAlert.model_validate_json(stored(i).model_dump_json()) for i in ("a", "b"))
    assert a.model_fields_set is b.model_fields_set and a.alert.model_fields_set is b.alert.model_fields_set
    assert a.routing.model_fields_set is b.routing.model_fields_set
    assert a.model_fields_set == set(StoredAlert.model_fields)
    partial = stored("c")  # built with some fields only
    assert partial.model_fields_set == {"alert", "placement", "received_at", "status", "lon", "lat"}
    copy = a.model_copy(update={"escalation_level": 2})
    assert copy.model_fields_set is not a.model_fields_set and copy.escalation_level == 2
    assert b.model_fields_set == set(StoredAlert.model_fields) and b.escalation_level == 0


def _samples() -> list[Alert]:
    """Every shipped sample CAP, CoT and GeoJSON message that decodes: areas, translations, markings, CoT
    extras and all."""
    from alerts.formats.decode import decode_alert
    from alerts.formats.errors import Rejected
    from tests.conftest import DATA

    decoded = []
    for path in sorted([*(DATA / "cap").iterdir(), *(DATA / "cot").iterdir(), *(DATA / "geojson").iterdir()]):
        try:
            decoded.append(decode_alert(path.read_bytes()))
        except (Rejected, ValueError):
            continue  # (a sample kept for its error)
    return decoded


def test_idx005_a_held_record_comes_back_equal_to_what_was_put_whatever_it_carries():
    """The index holds each record as compact JSON (defaults left out) and parses it again on ``get``: every
    field of every kind of alert survives, set or at its default."""
    samples = _samples()
    assert len(samples) >= 15
    put = []
    for n, alert in enumerate(samples):
        routing = Routing(nation="MK", releasable_to=["MK", "RS"], classification="RESTRICTED", caveats=["EU"],
                          feed="mk-cap", origin="a sample") if n % 2 else Routing()
        put.append(StoredAlert(alert=alert, placement=Placement(country="MK", countries=["MK"]), received_at=T0,
                               status=list(Status)[n % len(Status)], lon=21.43 if n % 3 else None,
                               lat=42.0 if n % 3 else None, escalation_level=n % 3, routing=routing,
                               identity=f"sample:{n}", key=f"{alert.id}~{n}"))  # (samples share ids)
    index = index_of(*put)
    for record in put:
        assert index.get(record.id) == record


def test_idx006_a_load_in_chunks_builds_the_same_table_as_one_in_one_go():
    alerts = [stored(f"c-{n}", severity=("low", "high", "critical")[n % 3], countries=(("MK",), ("RS", "BA"))[n % 2],
                     reported_at=T0 + timedelta(minutes=n), status=list(Status)[n % len(Status)]) for n in range(25)]
    whole, chunked = AlertIndex(), AlertIndex()
    whole.load(alerts, "100-0", chunk=1_000)
    chunked.load(alerts, "100-0", chunk=10)
    pd.testing.assert_frame_equal(chunked.table(), whole.table())
    assert [chunked.get(a.id) for a in alerts] == alerts
