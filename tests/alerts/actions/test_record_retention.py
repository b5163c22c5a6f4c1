"""Record retention on a real Redis: every alert and asset event archived first, only archived ones trimmed."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.actions.record_retention import RecordRetention, read_archive
from alerts.core.record import instant_of
from alerts.store.record import RecordStreams
from tests.conftest import make_asset, wait_for


def test_rrt001_events_are_archived_at_once_and_trimmed_only_past_the_age_by_the_injected_clock(client, keys, centre,
                                                                                               tmp_path):
    ids = [centre.assets.put(make_asset(f"a{i}", 44.0, 20.0 + i / 10)) for i in range(5)]
    streams = RecordStreams(client, keys)
    now = [datetime.now(UTC)]
    retention = RecordRetention(streams, tmp_path, timedelta(days=400), clock=lambda: now[0])
    assert retention.run_once()["assets"] == {"archived": 5, "trimmed": 0}
    assert [i for i, _ in read_archive(tmp_path, "assets")] == ids  # archived, nothing dropped
    assert retention.run_once()["assets"] == {"archived": 0, "trimmed": 0}  # nothing twice
    last_ms = int(ids[-1].split("-")[0])
    wait_for(lambda: client.time()[0] * 1000 + client.time()[1] // 1000 > last_ms + 2, 5, "Redis's clock")
    later = centre.assets.put(make_asset("b", 44.0, 21.0))
    # 400 days later by the injected clock: the first five are past the age; the sixth is not archived yet
    now[0] = instant_of(f"{last_ms + 1}-0") + timedelta(days=400)
    done = retention.run_once()["assets"]
    assert done == {"archived": 1, "trimmed": 5}
    assert [i for i, _ in read_archive(tmp_path, "assets")] == [*ids, later]
    assert [e.id for e in streams.read("assets")[0]] == [later]
    fields = dict(read_archive(tmp_path, "assets"))[ids[0]]
    assert fields["kind"] == "asset.updated" and '"id":"a0"' in fields["asset"]


def test_rrt002_nothing_is_trimmed_that_the_archive_could_not_take(client, keys, centre, tmp_path):
    centre.assets.put(make_asset("a", 44.0, 20.0))
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    retention = RecordRetention(RecordStreams(client, keys), blocked, timedelta(days=0),
                                clock=lambda: datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(OSError):
        retention.run_once()
    assert len(RecordStreams(client, keys).read("assets")[0]) == 1


def test_rrt003_entries_capped_away_before_archiving_are_reported_as_lost(client, keys, centre, tmp_path):
    first = centre.assets.put(make_asset("a", 44.0, 20.0))
    retention = RecordRetention(RecordStreams(client, keys), tmp_path)
    retention.run_once()
    centre.assets.put(make_asset("b", 44.0, 20.0))
    centre.assets.put(make_asset("c", 44.0, 20.0))
    client.xtrim(keys.assets_events, maxlen=1, approximate=False)  # a length cap ran before the archive
    assert retention.run_once()["assets"]["archived"] == 1 and retention.lost == 1
    assert [i for i, _ in read_archive(tmp_path, "assets")][0] == first


def test_rrt004_the_archive_is_for_the_service_account_only(client, keys, centre, tmp_path):
    centre.assets.put(make_asset("a", 44.0, 20.0))
    older = tmp_path / "older"  # an archive folder and file made before, world-readable
    older.mkdir(mode=0o755)
    (older / "alerts-2020-01-01.jsonl").write_text("")
    (older / "alerts-2020-01-01.jsonl").chmod(0o644)
    for folder in (tmp_path / "record" / "crisis", older):
        RecordRetention(RecordStreams(client, keys), folder).run_once()
        assert {(p.name, p.stat().st_mode & 0o777) for p in (folder, *folder.iterdir())} >= {(folder.name, 0o700)}
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in folder.iterdir()), list(folder.iterdir())
    assert (tmp_path / "record").stat().st_mode & 0o777 == 0o700


def test_rrt005_a_catch_up_holds_one_batch_at_a_time_whatever_the_backlog(client, keys, centre, tmp_path):
    """A process that starts after the archive fell behind (at 100,000 events, 20-40 MB more held at start with
    batches of 5,000) reads, archives and forgets the backlog ``BATCH`` entries at a time: here, records of
    about 1.5 KB, about 8 MB at the peak of a catch-up, whatever its length."""
    import tracemalloc

    from alerts.actions.record_retention import BATCH
    from alerts.core.model import Alert, Placement, StoredAlert
    from tests.conftest import make_alert

    def backlog(n: int, start: int) -> int:
        for first in range(start, start + n, 500):
            centre.alerts.record_many([
                StoredAlert(alert=Alert.model_validate(make_alert(id=f"cu-{i:05d}", description="x" * 400)),
                            placement=Placement(), received_at="2026-01-01T00:00:00Z")
                for i in range(first, min(first + 500, start + n))])
        tracemalloc.start()
        try:
            done = retention.run_once()["alerts"]["archived"]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert done == n
        return peak

    retention = RecordRetention(RecordStreams(client, keys), tmp_path)
    one = backlog(BATCH, 0)
    four = backlog(4 * BATCH, BATCH)
    assert four < 2 * one, f"{four / one:.1f}x the memory of one batch for four"
    assert four < 12_000_000, f"{four / 1e6:.1f} MB held at once"  # about 8 MB; 41 MB with batches of 5,000
    assert len(read_archive(tmp_path, "alerts")) == 5 * BATCH
