"""Query parameters are finite and bounded: a real server answers 422 naming the parameter, never 500."""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import add_user

BAD_WINDOWS = ["nan", "NaN", "inf", "-inf", "1e20", "1e308", "0", "-5", "87841", "x", "1_0", "\uff11", " 1 2"]


@pytest.fixture(scope="module")
def officer(app_server, redis_url):
    return add_user(redis_url, app_server.prefix, "duty-prm", "duty_officer", "RS")


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/api/v1/summary", "/live/alerts", "/api/v1/sitrep",
                                  "/api/v1/export/alerts.geojson", "/api/v1/cot"])
def test_prm001_a_non_finite_or_out_of_range_window_is_a_422_naming_it(app_server, officer, path):
    for value in BAD_WINDOWS:
        response = httpx.get(f"{app_server.url}{path}", params={"window_hours": value}, headers=officer.headers,
                             timeout=10)
        assert response.status_code == 422, (path, value, response.text)
        assert "window_hours" in response.json()["detail"], (path, value)


def test_prm002_paging_is_bounded(app_server, officer):
    for params in ({"offset": "99999999999999999999"}, {"offset": "-1"}, {"limit": "1e20"}, {"limit": "nan"},
                   {"limit": "0"}, {"limit": "1001"}):
        response = httpx.get(f"{app_server.url}/api/v1/alerts", params=params, headers=officer.headers, timeout=10)
        assert response.status_code == 422, (params, response.text)
    assert httpx.get(f"{app_server.url}/api/v1/alerts", params={"offset": "10000000"}, headers=officer.headers,
                     timeout=10).status_code == 200


def test_prm003_an_unknown_api_route_is_a_404_in_json(app_server, officer):
    for method, path in (("GET", "/api/v1/no-such-route"), ("GET", "/api/v1/alerts/x/no-such"),
                         ("POST", "/api/v1/nothing"), ("GET", "/api/v1/")):
        response = httpx.request(method, f"{app_server.url}{path}", headers=officer.headers, timeout=10)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.headers["content-type"] == "application/json" and response.json()["detail"]
