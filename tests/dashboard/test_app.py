"""``create_app``: every app built in a process gets every page's callbacks (Dash hands them to the first only)."""
from __future__ import annotations

import httpx

from dashboard.components import ids
from tests.conftest import add_user, serve_in_process


def _outputs(server, user) -> set[str]:
    response = httpx.get(f"{server.url}/_dash-dependencies", headers=user.headers, timeout=10)
    assert response.status_code == 200
    return {spec["output"] for spec in response.json()}


def test_app001_a_second_app_in_the_process_has_the_page_callbacks_too(redis_url):
    first, second = serve_in_process(redis_url), serve_in_process(redis_url)
    try:
        servers = [next(first), next(second)]
        seen = []
        for server in servers:
            user = add_user(redis_url, server.prefix, "app-check", "duty_officer", "RS")
            seen.append(_outputs(server, user))
        assert seen[0] == seen[1]
        assert any(f"{ids.ALERT_DETAILS}.children" in output for output in seen[1])  # the map's details
        assert any("sharing-requests.children" in output for output in seen[1])
    finally:
        first.close()
        second.close()


def test_app002_the_server_runs_the_audit_retention_from_its_settings(redis_url, prefix, tmp_path):
    """``create_app`` starts the retention job: the trail is archived, then trimmed to its length."""
    import json

    from alerts.core.events import SignInFailed
    from dashboard.app import start_audit_retention
    from dashboard.services import build_services
    from dashboard.settings import Settings
    from tests.conftest import wait_for

    settings = Settings(redis_url=redis_url, prefix=prefix, audit_max_entries=2, audit_archive_dir=tmp_path)
    services = build_services(settings)
    ids = [services.centre.audit.record("x", SignInFailed(f"n{i}"), "") for i in range(5)]
    stop = start_audit_retention(settings, services)
    try:
        wait_for(lambda: services.centre.audit.length() == 2, 10, "the retention job to trim")
    finally:
        stop.set()
        services.client.close()
    archived = [json.loads(line)["id"] for path in tmp_path.glob("audit-*.jsonl")
                for line in path.read_text(encoding="utf-8").splitlines()]
    assert archived == ids[:3]
