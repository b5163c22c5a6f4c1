"""JSON bodies the app cannot use: a real server answers 422 (API) or 400 (Dash callbacks) with a reason,
never a 500, and never echoes a non-finite value."""
from __future__ import annotations

import json
import logging
import math

import httpx
import pytest
from fastapi.exceptions import RequestValidationError

from dashboard.api import _invalid
from dashboard.edge.jsonbody import NON_FINITE
from tests.conftest import add_user, serve_in_process

BODIES = ['{"note": NaN}', '{"note": Infinity}', '{"note": -Infinity}', '{"note": 1e999}', "NaN",
              '{"a": [1, {"b": -1e400}]}', '{"n": ' + "9" * 5000 + "}"]


@pytest.fixture(scope="module")
def edge(redis_url):
    yield from serve_in_process(redis_url)


def _post_routes(server) -> list[str]:
    """Every API route that takes a POST, its path parameters filled in."""
    return [path.replace("{", "").replace("}", "") for path, operations in server.openapi()["paths"].items()
            if "post" in operations and path.startswith("/api/v1/")]


def test_jsn001_a_non_finite_number_in_any_json_body_is_422_with_a_reason_echoing_no_value(edge, redis_url):
    admin = add_user(redis_url, edge.prefix, "admin-jsn1", "admin", "RS")
    routes = _post_routes(edge.app.server)
    assert "/api/v1/alerts/alert_id/resolve" in routes and len(routes) > 10
    for path in routes:
        for body in BODIES:
            answer = httpx.post(f"{edge.url}{path}", content=body, timeout=10,
                                headers={**admin.headers, "content-type": "application/json"})
            assert answer.status_code == 422, (path, body, answer.text)
            assert answer.json() == {"detail": NON_FINITE}  # one reason for all: no value of the body echoed


def test_jsn002_finite_bodies_still_reach_the_routes(edge, redis_url):
    officer = add_user(redis_url, edge.prefix, "duty-jsn2", "duty_officer", "RS")
    answer = httpx.post(f"{edge.url}/api/v1/alerts/none/resolve", json={"note": 1.5e300}, headers=officer.headers,
                        timeout=10)
    detail = answer.json()["detail"][0]
    assert answer.status_code == 422 and detail["loc"] == ["body", "note"] and "input" not in detail  # judged
    missing = httpx.post(f"{edge.url}/api/v1/alerts/none/resolve", json={"note": "done"}, headers=officer.headers,
                         timeout=10)
    assert missing.status_code == 404  # no such alert: the route ran
    broken = httpx.post(f"{edge.url}/api/v1/alerts/none/resolve", content=b"{nope",
                        headers={**officer.headers, "content-type": "application/json"}, timeout=10)
    assert broken.status_code == 422 and "JSON decode error" in broken.text


def test_jsn003_a_validation_error_never_echoes_what_was_sent():
    """A non-finite number (which JSON cannot carry) or a lone surrogate (which UTF-8 cannot) echoed in a 422
    made the answer itself fail with a 500 and the connection drop: nothing sent is echoed, ASCII JSON."""
    error = RequestValidationError([{"type": "string_type", "loc": ("body", "note"), "msg": "Input should be a "
                                     "valid string", "input": math.nan}, {"type": "x", "loc": ("query", "q"),
                                                                          "msg": "m \ud800", "input": "\ud800"}])
    answer = _invalid(None, error)
    body = json.loads(answer.body)
    assert answer.status_code == 422 and all("input" not in d and "ctx" not in d for d in body["detail"])
    assert body["detail"][0]["loc"] == ["body", "note"] and answer.body.isascii()


def test_jsn006_deep_bodies_and_lone_surrogates_are_refused_or_judged_never_a_500(edge, redis_url):
    officer = add_user(redis_url, edge.prefix, "duty-jsn6", "duty_officer", "RS")
    deep = b'{"n":' + b"[" * 3000 + b"]" * 3000 + b"}"
    for path, headers in (("/login", {}), ("/api/v1/alerts/none/resolve", officer.headers)):
        answer = httpx.post(f"{edge.url}{path}", content=deep, headers={**headers, "content-type": "application/json"},
                            timeout=10)
        assert answer.status_code == 422 and "deeper than" in answer.json()["detail"], (path, answer.text)
    surrogate = httpx.post(f"{edge.url}/api/v1/alerts/none/resolve", content=b'{"note": "\\ud800"}',
                           headers={**officer.headers, "content-type": "application/json"}, timeout=10)
    assert surrogate.status_code == 422 and "surrogate" in surrogate.json()["detail"]


def _callback_request(app) -> dict:
    output, callback = next((o, c) for o, c in app.callback_map.items() if o.startswith(".."))  # several outputs
    outputs = [{"id": o.component_id, "property": o.component_property} for o in callback["output"]]
    props = [{"id": i["id"], "property": i["property"], "value": None} for i in callback["inputs"]]
    state = [{"id": i["id"], "property": i["property"], "value": None} for i in callback["state"]]
    return {"output": output, "outputs": outputs, "inputs": props, "state": state,
            "changedPropIds": []}


def test_jsn004_a_malformed_callback_body_is_400_not_500_and_logs_no_error(edge, redis_url, caplog):
    user = add_user(redis_url, edge.prefix, "duty-jsn4", "duty_officer", "RS")
    url = f"{edge.url}/_dash-update-component"
    good = _callback_request(edge.app)
    malformed = ["NaN", '{"output": NaN}', "{", "", "[]", "{}", '"text"', json.dumps({"output": "no.such"}),
                 json.dumps({**good, "inputs": good["inputs"][1:] + [7]}), json.dumps({**good, "inputs": []}),
                 json.dumps({**good, "state": "x"}), json.dumps({**good, "changedPropIds": [1]}),
                 json.dumps({**good, "outputs": 3}), json.dumps({**good, "outputs": good["outputs"][0]}),
                 json.dumps({**good, "outputs": good["outputs"][1:]})]
    with caplog.at_level(logging.INFO):
        for body in malformed:
            answer = httpx.post(url, content=body, headers={**user.headers, "content-type": "application/json"},
                                timeout=10)
            assert answer.status_code == 400, (body, answer.text)
            assert answer.json()["detail"]
        plain = httpx.post(url, content=json.dumps(good), headers={**user.headers, "content-type": "text/plain"},
                           timeout=10)
        assert plain.status_code == 400
        served = httpx.post(url, json=good, headers=user.headers, timeout=10)
        assert served.status_code in (200, 204), served.text  # a well-formed request is Dash's to answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    anonymous = httpx.post(url, content="NaN", headers={"content-type": "application/json"}, timeout=10)
    assert anonymous.status_code == 401  # bodies are looked at only after authentication


def test_jsn005_get_of_a_post_only_endpoint_is_405_never_the_page_shell(edge, redis_url):
    user = add_user(redis_url, edge.prefix, "duty-jsn5", "duty_officer", "RS")
    for path in ("/_dash-update-component",):
        for method in ("GET", "HEAD"):
            answer = httpx.request(method, f"{edge.url}{path}", headers={**user.headers, "accept": "text/html"},
                                   timeout=10)
            assert answer.status_code == 405, (method, path, answer.status_code)
            assert "POST" in answer.headers["allow"] and "_dash-config" not in answer.text
    assert httpx.get(f"{edge.url}/queue", headers=user.headers, timeout=10).status_code == 200  # pages still are
    api = httpx.get(f"{edge.url}/api/v1/alerts/x/resolve", headers=user.headers, timeout=10)
    assert api.status_code in (404, 405) and "_dash-config" not in api.text
