"""``/openapi.json`` documents what the API really takes and answers (in process, real Redis)."""
from __future__ import annotations

import httpx

from tests.conftest import add_user

FILTERS = {"severity", "type", "country", "since", "until", "window_hours", "exercise", "status", "identifier"}


def test_opn001_filters_refusals_and_media_types_are_documented(app_server):
    user = add_user(app_server.services.settings.redis_url, app_server.prefix, "opn-rs", "duty_officer", "RS")
    spec = httpx.get(f"{app_server.url}/openapi.json", headers=user.headers, timeout=10).json()
    paths = spec["paths"]
    for path in ("/api/v1/alerts", "/api/v1/summary", "/api/v1/export/alerts.geojson", "/api/v1/cot", "/live/alerts"):
        documented = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert FILTERS <= documented, (path, FILTERS - documented)
    assert set(paths["/api/v1/alerts/{alert_id}/ack"]["post"]["responses"]) >= {"200", "403", "404", "409"}
    assert "application/xml" in paths["/api/v1/cot"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in paths["/live/alerts"]["get"]["responses"]["200"]["content"]
    assert {"text/markdown", "text/csv"} <= set(paths["/api/v1/sitrep"]["get"]["responses"]["200"]["content"])
    alert = spec["components"]["schemas"]["AlertOut"]["properties"]
    assert {"identifier", "identity", "position", "status"} <= set(alert)
