"""Request bodies are bounded: a real server answers 413 with a JSON reason before reading past the limit."""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import add_user, serve_in_process

LIMIT = 4096


@pytest.fixture(scope="module")
def small(redis_url):
    """A server whose body limit is ``LIMIT`` bytes."""
    yield from serve_in_process(redis_url, max_request_bytes=LIMIT)


def test_bdy001_a_body_over_the_limit_is_refused_with_413_and_a_reason(small, redis_url):
    officer = add_user(redis_url, small.prefix, "duty-bdy1", "duty_officer", "RS")
    url = f"{small.url}/api/v1/alerts/none/resolve"
    declared = httpx.post(url, content=b"x" * (LIMIT + 1), headers=officer.headers, timeout=10)
    assert declared.status_code == 413
    assert declared.json() == {"detail": f"request body over {LIMIT} bytes (CRISIS_MAX_REQUEST_BYTES)"}

    def chunks():  # no Content-Length: sent chunked
        for _ in range(LIMIT // 1000 + 2):
            yield b"y" * 1000

    chunked = httpx.post(url, content=chunks(), headers=officer.headers, timeout=10)
    assert chunked.status_code == 413 and "CRISIS_MAX_REQUEST_BYTES" in chunked.json()["detail"]
    anonymous = httpx.post(f"{small.url}/login", content=b"u" * (LIMIT * 4), timeout=10)
    assert anonymous.status_code == 413
    assert anonymous.headers["x-frame-options"] == "DENY"  # refusals carry the security headers too


def test_bdy002_a_body_within_the_limit_reaches_the_app(small, redis_url):
    officer = add_user(redis_url, small.prefix, "duty-bdy2", "duty_officer", "RS")
    url = f"{small.url}/api/v1/alerts/none/resolve"
    declared = httpx.post(url, json={"note": "n" * (LIMIT - 100)}, headers=officer.headers, timeout=10)

    def chunks():
        yield b'{"note": "'
        yield b"n" * (LIMIT - 100)
        yield b'"}'

    chunked = httpx.post(url, content=chunks(), headers={**officer.headers, "content-type": "application/json"},
                         timeout=10)
    # read and judged by the app (the note is over its own length limit): the same answer either way
    assert declared.status_code == chunked.status_code == 422
    assert declared.json() == chunked.json() and "note" in str(declared.json())
