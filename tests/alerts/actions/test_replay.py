"""Replay on a real Redis: the state at a moment equals the live state then, per nation; hidden stays hidden."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from alerts.actions import replay, sharing, tasking, workflow
from alerts.actions.errors import Invalid
from alerts.actions.visibility import visible_alerts, visible_assets
from alerts.core.feeds import FeedRegistry
from alerts.core.query import AlertQuery
from alerts.core.record import instant_of
from alerts.core.viewer import Viewer
from tests.conftest import alert_pipeline, make_alert, make_asset, wait_for

FEEDS = FeedRegistry.parse('[[feeds]]\nname = "rs"\nnation = "RS"\nreleasable_to = ["RS"]\nsource = "RS-MOI"\n',
                           "feeds.toml")
DUTY_RS = Viewer("duty-rs", "duty_officer", "RS", via="session", clearance="SECRET")
DUTY_BA = Viewer("duty-ba", "duty_officer", "BA", via="session", clearance="UNCLASSIFIED")


def redis_now(client) -> datetime:
    """Redis's clock (the record's clock), once it has moved past every entry written so far."""
    seconds, micros = client.time()
    then = seconds * 1000 + micros // 1000
    wait_for(lambda: (lambda t: t[0] * 1000 + t[1] // 1000 > then + 1)(client.time()), 5, "Redis's clock")
    return datetime.fromtimestamp((then + 1) / 1000, UTC)


@pytest.fixture
def world(centre, client, keys, regions):
    pipeline = alert_pipeline(client, keys, regions, store=centre.alerts, feeds=FEEDS,
                              on_recorded=centre.workflow.open_checklists)

    def sync():
        for event in centre.alerts.events_since(centre.index.cursor):
            centre.index.apply(event)
        for event in centre.assets.events_since("0-0"):
            centre.asset_index.put(event.asset)

    def send(**fields) -> str:
        result = pipeline.process([("test", json.dumps(make_alert(**fields)).encode())])
        assert result.accepted and not result.dead, result.dead
        sync()
        return result.accepted[0].id

    return send, sync


def live(centre, viewer) -> tuple[dict, dict]:
    """What ``viewer`` sees now: alert id -> status, asset id -> (lat, lon, status, assigned_to)."""
    alerts = {a.id: a.status.value for a in visible_alerts(centre, viewer, AlertQuery())}
    assets = {a.id: (a.position.lat, a.position.lon, a.status.value, a.assigned_to)
              for a in visible_assets(centre, viewer)}
    return alerts, assets


def rebuilt(centre, viewer, at) -> tuple[dict, dict]:
    picture = replay.state_at(centre, viewer, at)
    return ({a.id: a.status.value for a, _ in picture.alerts},
            {a.id: (a.position.lat, a.position.lon, a.status.value, a.assigned_to) for a in picture.assets})


def test_rpl001_state_at_sampled_moments_equals_the_live_state_then_for_two_nations(centre, client, world):
    send, sync = world
    samples: list[tuple[datetime, dict]] = []

    def sample():
        sync()  # the read model takes in what happened (the live feed's job in a server)
        at = redis_now(client)
        samples.append((at, {v.nation: live(centre, v) for v in (DUTY_RS, DUTY_BA)}))

    centre.assets.put(make_asset("amb-1", 44.0, 20.5, nation="RS", releasable_to=["RS"]))
    centre.assets.put(make_asset("amb-2", 44.1, 20.6, nation="BA", releasable_to=["ALL"]))
    sync()
    sample()
    own = send(source="RS-MOI", releasable_to=None, title="RS only, later shared with BA")
    secret = send(releasable_to=["ALL"], classification="SECRET", title="above BA's clearance")
    open_ = send(releasable_to=["RS", "BA"], title="both")
    sample()
    workflow.acknowledge(centre, DUTY_RS, own)
    sample()
    tasking.assign(centre, DUTY_RS, own, "amb-2")
    sync()
    sample()
    sharing.change_releasability(centre, DUTY_RS, own, ["RS", "BA"], reason="BA assets are tasked")
    sync()
    sample()
    workflow.acknowledge(centre, DUTY_BA, open_)
    moved = make_asset("amb-2", 44.3, 20.9, nation="BA", releasable_to=["ALL"], status="committed",
                       assigned_to=own, updated_at=datetime.now(UTC).isoformat())
    centre.assets.put(moved)
    sync()
    sample()
    workflow.resolve(centre, DUTY_RS, own, "done")
    sync()
    sample()
    workflow.acknowledge(centre, DUTY_RS, secret)
    sync()
    sample()
    tasking.release(centre, DUTY_RS, own, "amb-2")
    sync()
    sample()
    workflow.resolve(centre, DUTY_BA, open_, "done")
    sync()
    sample()
    assert len(samples) == 10

    for at, seen in samples:
        for viewer in (DUTY_RS, DUTY_BA):
            assert rebuilt(centre, viewer, at) == seen[viewer.nation], (at, viewer.nation)
    # the alert released to BA later is not in BA's picture before the change, even though BA may see it now
    first_share = samples[3][0]
    assert own not in rebuilt(centre, DUTY_BA, first_share)[0]
    assert own in rebuilt(centre, DUTY_BA, samples[4][0])[0]
    # the SECRET alert never reaches BA (UNCLASSIFIED), at any time, in the state or the timeline
    for at, _ in samples:
        assert secret not in rebuilt(centre, DUTY_BA, at)[0]
    ba_events = replay.timeline(centre, DUTY_BA).events
    assert all(secret not in e.alert_ids for e in ba_events)
    assert not any(e.kind == "alert.acknowledge" and e.object == own and e.at < samples[4][0] for e in ba_events)
    assert any(e.object == own and e.kind == "alert.resolve" for e in ba_events)
    # BA saw amb-2 committed to nothing it could name while the alert was RS-only
    assert rebuilt(centre, DUTY_BA, samples[3][0])[1]["amb-2"][3] is None
    rs_events = replay.timeline(centre, DUTY_RS).events
    assert any(e.object == secret for e in rs_events)
    # ordered, and the RS state at 'now' is today's state
    keys = [e.order for e in rs_events]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert rebuilt(centre, DUTY_RS, redis_now(client)) == live(centre, DUTY_RS)


def test_rpl002_timeline_window_and_bad_windows(centre, client, world):
    send, _ = world
    first = send(releasable_to=["ALL"])
    middle = redis_now(client)
    second = send(releasable_to=["ALL"])
    later = replay.timeline(centre, DUTY_RS, since=middle).events
    assert {e.object for e in later if e.stream == "alerts"} == {second}
    earlier = replay.timeline(centre, DUTY_RS, until=middle).events
    assert {e.object for e in earlier if e.stream == "alerts"} == {first}
    assert all(instant_of(e.id) >= middle for e in later)
    with pytest.raises(Invalid):
        replay.timeline(centre, DUTY_RS, since=middle, until=instant_of("1000-0"))
    with pytest.raises(Invalid):
        replay.state_at(centre, DUTY_RS, datetime(2026, 1, 1))


def test_rpl003_events_trimmed_from_the_streams_stay_in_the_picture_and_earlier_seeks_are_refused(
        centre, client, keys, world):
    send, _ = world
    start = redis_now(client)
    first = send(releasable_to=["ALL"])
    before = redis_now(client)
    assert first in rebuilt(centre, DUTY_RS, before)[0]        # the process holds the record from here on
    second = send(releasable_to=["ALL"])
    newest = client.xrevrange(keys.events, count=1)[0][0].decode()
    for stream in (keys.events, keys.assets_events, keys.audit):  # retention trimmed everything older
        client.xtrim(stream, minid=newest, approximate=False)
    now = redis_now(client)
    assert set(rebuilt(centre, DUTY_RS, now)[0]) == {first, second}  # folded into the base, not lost
    assert set(rebuilt(centre, DUTY_RS, before)[0]) == {first}
    with pytest.raises(Invalid):  # before the folded events: not rebuilt from what is held
        replay.state_at(centre, DUTY_RS, start)


def test_rpl004_a_process_started_after_a_trim_replays_the_archived_events(centre, client, keys, world, tmp_path):
    from alerts.store.audit import AuditLog

    kept = _trimmed_to_the_archive(centre, client, keys, world, tmp_path)
    centre.audit = AuditLog(client, keys)  # another process: nothing read yet
    assert replay.seed_from_archive(centre, tmp_path / "record", tmp_path / "audit") > 0
    picture = replay.state_at(centre, DUTY_RS, redis_now(client))
    assert [(a.id, a.status.value, ack.by) for a, ack in picture.alerts] == [(kept, "acknowledged", "duty-rs")]
    assert replay.seed_from_archive(centre, tmp_path / "record", tmp_path / "audit") == 0  # once only
    assert not replay.state_at(centre, DUTY_BA, redis_now(client)).alerts


def _trimmed_to_the_archive(centre, client, keys, world, tmp_path) -> str:
    """One alert, acknowledged, then archived and trimmed from every stream (400 days on, by the clock given)."""
    from datetime import timedelta

    from alerts.actions.audit_retention import AuditRetention
    from alerts.actions.record_retention import RecordRetention
    from alerts.store.record import RecordStreams

    send, _ = world
    kept = send(releasable_to=["RS"])
    workflow.acknowledge(centre, DUTY_RS, kept)
    later = lambda: datetime.now(UTC) + timedelta(days=401)  # noqa: E731
    RecordRetention(RecordStreams(client, keys), tmp_path / "record", clock=later).run_once()
    AuditRetention(centre.audit, tmp_path / "audit", timedelta(days=400), 1_000_000, clock=later).run_once()
    assert client.xlen(keys.events) == 0 and client.xlen(keys.audit) == 0  # archived, then trimmed
    return kept


def test_rpl005_the_first_use_reads_the_archive_then_the_streams_holding_the_archive_lock(
        centre, client, keys, world, tmp_path, monkeypatch):
    """A process reads the record when replay is first used (not at start): the archive first, then the
    streams, under the record archive's lock, so a retention run cannot trim between the two reads; while
    retention holds the lock, the first read waits for it."""
    from alerts.store.audit import AuditLog
    from alerts.store.record import RecordStreams

    kept = _trimmed_to_the_archive(centre, client, keys, world, tmp_path)
    centre.audit = AuditLog(client, keys)  # another process: nothing read yet
    centre.record_archive, centre.audit_archive = tmp_path / "record", tmp_path / "audit"
    streams = RecordStreams(client, keys)
    assert streams.lock("retention-run", 60)  # a retention run holds the lock
    refused, taken = threading.Event(), []
    lock = RecordStreams.lock

    def watched(self, token, seconds):
        got = lock(self, token, seconds)
        (taken.append(token) if got else refused.set())
        return got

    monkeypatch.setattr(RecordStreams, "lock", watched)
    seek = threading.Thread(target=lambda: taken.append(replay.state_at(centre, DUTY_RS, redis_now(client))))
    seek.start()
    assert refused.wait(10)  # it asked for the lock and waits for it
    assert not taken
    streams.unlock("retention-run")
    seek.join(20)
    token, picture = taken
    assert [(a.id, ack.by) for a, ack in picture.alerts] == [(kept, "duty-rs")]  # from the archive
    assert client.get(keys.record_archive_lock) is None  # given back
    assert token != "retention-run"


def test_rpl006_an_unused_record_is_forgotten_after_the_idle_time_and_read_again_when_used(centre, client, world):
    from datetime import timedelta

    send, _ = world
    first = send(releasable_to=["RS"])
    now = [datetime.now(UTC)]
    centre.clock, centre.record_idle = (lambda: now[0]), timedelta(minutes=15)
    before = rebuilt(centre, DUTY_RS, redis_now(client))
    assert set(before[0]) == {first}
    held = replay.cache_of(centre)
    now[0] += timedelta(minutes=14, seconds=59)
    assert not replay.forget_idle(centre) and replay.cache_of(centre) is held
    rebuilt(centre, DUTY_RS, redis_now(client))  # used again: the idle time starts anew
    now[0] += timedelta(minutes=14, seconds=59)
    assert not replay.forget_idle(centre)
    now[0] += timedelta(seconds=1)
    holding, done = threading.Event(), threading.Event()

    def seek_under_way():
        with held.lock:
            holding.set()
            done.wait(10)

    seeker = threading.Thread(target=seek_under_way)
    seeker.start()
    assert holding.wait(10)
    try:
        assert not replay.forget_idle(centre)  # a read or seek under way keeps it
    finally:
        done.set()
        seeker.join(10)
    assert replay.forget_idle(centre) and replay.cache_of(centre) is not held
    second = send(releasable_to=["RS"])
    assert set(rebuilt(centre, DUTY_RS, redis_now(client))[0]) == {first, second}  # read again, whole
    centre.record_idle = None
    now[0] += timedelta(days=30)
    assert not replay.forget_idle(centre)  # None: once read, kept


def test_rpl007_a_picture_keeps_the_newest_reports_up_to_its_limit_and_parses_only_those(centre, client, world,
                                                                                         monkeypatch):
    """At 100,000 alerts one seek parsed every record it could show (24 s, 1.1 GB in bench/README.md section 10):
    a picture holds the ``limit`` newest reports (the API's default 10,000) and parses only those."""
    from datetime import timedelta

    from alerts.core import record

    send, _ = world
    start = datetime.now(UTC) - timedelta(hours=1)
    sent = [send(releasable_to=["RS"], reported_at=(start + timedelta(minutes=m)).isoformat())
            for m in (5, 1, 30, 12, 7)]
    hidden = send(releasable_to=["BA"], reported_at=(start + timedelta(minutes=59)).isoformat())
    at = redis_now(client)
    whole = replay.state_at(centre, DUTY_RS, at)
    assert [a.id for a, _ in whole.alerts] == [sent[i] for i in (2, 3, 4, 0, 1)] and not whole.truncated
    record.parsed_alert.cache_clear()
    parsed = []
    monkeypatch.setattr(record.StoredAlert, "from_json", classmethod(
        lambda cls, raw, parse=record.StoredAlert.from_json: parsed.append(raw) or parse(raw)))
    two = replay.state_at(centre, DUTY_RS, at, limit=2)
    assert [a.id for a, _ in two.alerts] == [sent[2], sent[3]] and two.truncated
    assert len(parsed) == 2 and hidden not in {a.id for a, _ in two.alerts}
    for bad in (0, replay.MAX_ALERTS + 1):
        with pytest.raises(Invalid):
            replay.state_at(centre, DUTY_RS, at, limit=bad)


def test_rpl008_a_picture_counts_every_alert_the_viewer_could_see_whatever_its_limit(centre, client, world):
    """``Picture.total``: how many alerts the viewer could see then, before the limit (what the replay page says
    when it shows only the newest)."""
    send, _ = world
    sent = [send(releasable_to=["RS"]) for _ in range(4)]
    send(releasable_to=["BA"])  # not the viewer's: not counted
    at = redis_now(client)
    below = replay.state_at(centre, DUTY_RS, at, limit=2)
    assert below.total == 4 and below.truncated and len(below.alerts) == 2
    above = replay.state_at(centre, DUTY_RS, at, limit=10)
    assert above.total == 4 and not above.truncated and {a.id for a, _ in above.alerts} == set(sent)
    exact = replay.state_at(centre, DUTY_RS, at, limit=4)
    assert exact.total == 4 and not exact.truncated
    assert replay.state_at(centre, DUTY_BA, at, limit=1).total == 1
