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


def test_app102_the_record_warm_up_runs_before_the_retention_jobs_may_trim(redis_url, prefix, tmp_path):
    from dashboard.app import start_audit_retention
    from dashboard.services import build_services
    from dashboard.settings import Settings
    from tests.conftest import make_asset, wait_for

    settings = Settings(redis_url=redis_url, prefix=prefix, record_archive_dir=tmp_path)
    services = build_services(settings)
    services.centre.assets.put(make_asset("arc-2", 44.0, 20.0))
    archived_when_warming = []
    stop = start_audit_retention(settings, services,
                                 before=lambda: archived_when_warming.append((tmp_path / prefix).exists()))
    try:
        wait_for(lambda: list((tmp_path / prefix).glob("assets-*.jsonl")), 10, "the record to be archived")
    finally:
        stop.set()
        services.client.close()
    assert archived_when_warming == [False]
