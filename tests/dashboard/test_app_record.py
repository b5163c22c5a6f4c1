"""``create_app``'s retention jobs include the record's: every asset and alert event archived under the prefix."""
from __future__ import annotations

import json


def test_app101_the_server_archives_the_record_under_its_prefix(redis_url, prefix, tmp_path):
    from dashboard.app import start_audit_retention
    from dashboard.services import build_services
    from dashboard.settings import Settings
    from tests.conftest import make_asset, wait_for

    settings = Settings(redis_url=redis_url, prefix=prefix, record_archive_dir=tmp_path)
    services = build_services(settings)
    written = services.centre.assets.put(make_asset("arc-1", 44.0, 20.0))
    stop = start_audit_retention(settings, services)
    try:
        wait_for(lambda: list((tmp_path / prefix).glob("assets-*.jsonl")), 10, "the record to be archived")
    finally:
        stop.set()
        services.client.close()
    lines = [json.loads(line) for path in (tmp_path / prefix).glob("assets-*.jsonl")
             for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [written]


def test_app102_the_server_forgets_an_unused_replay_record_and_reads_it_again_when_used(redis_url, prefix, tmp_path):
    """No record is read at start; the first replay reads it; unused for ``CRISIS_REPLAY_IDLE`` it is forgotten."""
    from alerts.actions import replay
    from dashboard.app import start_audit_retention
    from dashboard.services import build_services
    from dashboard.settings import Settings
    from tests.conftest import make_asset, wait_for

    settings = Settings(redis_url=redis_url, prefix=prefix, record_archive_dir=tmp_path, replay_idle_seconds=1)
    services = build_services(settings)
    centre = services.centre
    stop = start_audit_retention(settings, services)
    try:
        assert centre.record_archive == tmp_path / prefix and centre.audit_archive == settings.audit_archive
        assert centre.audit not in replay._caches  # nothing read at start
        centre.assets.put(make_asset("idle-1", 44.0, 20.0))
        assert len(replay.record_of(centre)) == 1
        wait_for(lambda: centre.audit not in replay._caches, 10, "the unused record to be forgotten")
        assert len(replay.record_of(centre)) == 1  # read again when used
    finally:
        stop.set()
        services.client.close()


def test_app103_the_housekeeping_hands_the_heaps_free_pages_back_every_round(redis_url, prefix, tmp_path, monkeypatch):
    """Beside forgetting the record, each round of the housekeeping trims the heap (``dashboard.heap``)."""
    import threading

    from dashboard import app
    from dashboard.services import build_services
    from dashboard.settings import Settings

    rounds = threading.Semaphore(0)
    monkeypatch.setattr(app, "give_back_freed_memory", rounds.release)
    monkeypatch.setattr(app, "TRIM_EVERY", 0.05)
    settings = Settings(redis_url=redis_url, prefix=prefix, record_archive_dir=tmp_path)
    services = build_services(settings)
    stop = app.start_audit_retention(settings, services)
    try:
        for _ in range(3):
            assert rounds.acquire(timeout=10), "the housekeeping did not trim the heap"
    finally:
        stop.set()
        services.client.close()
