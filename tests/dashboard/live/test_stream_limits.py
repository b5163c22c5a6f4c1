"""Live streams are bounded per user and in all: the oldest of a user's streams gives way; a full server says 503."""
from __future__ import annotations

from contextlib import ExitStack

import httpx
import pytest

from dashboard.live.limits import SUPERSEDED_RETRY_MS
from tests.conftest import add_user, serve_in_process, wait_for

PER_USER, TOTAL = 2, 3


@pytest.fixture(scope="module")
def limited(redis_url):
    """A server holding at most 2 streams of each kind per user and 3 in all."""
    yield from serve_in_process(redis_url, max_streams_per_user=PER_USER, max_streams=TOTAL)


def _open(stack: ExitStack, server, user, kind: str = "alerts") -> httpx.Response:
    response = stack.enter_context(httpx.stream("GET", f"{server.url}/live/{kind}", headers=user.headers,
                                                timeout=httpx.Timeout(15, read=15)))
    assert response.status_code == 200, response.read()
    return response


def _limits(server):
    return server.app.server.state.stream_limits


def _all_closed(server) -> None:
    wait_for(lambda: len(_limits(server)) == 0, what="every stream's place to be given back")


def test_slm001_one_stream_past_a_users_limit_closes_that_users_oldest(limited, redis_url):
    user = add_user(redis_url, limited.prefix, "duty-slm1", "duty_officer", "RS")
    with ExitStack() as stack:
        oldest, second = _open(stack, limited, user), _open(stack, limited, user)
        assets = _open(stack, limited, user, "assets")  # another kind: its own count
        lines = oldest.iter_lines()
        assert next(lines) == "retry: 1000"
        _open(stack, limited, user)  # the third alerts stream
        rest = list(lines)  # the oldest stream sends its last event, then ends
        at = rest.index("event: superseded")
        assert rest[at + 1] == f"retry: {SUPERSEDED_RETRY_MS}" and "newer live stream" in rest[at + 2]
        assert _limits(limited).held_by(user.name, "alerts") == PER_USER
        assert _limits(limited).held_by(user.name, "assets") == 1
        assert not second.is_closed and not assets.is_closed
    _all_closed(limited)


def test_slm002_past_the_total_a_new_stream_is_refused_with_503_but_a_user_may_replace_their_own(limited, redis_url):
    first, second, third = (add_user(redis_url, limited.prefix, f"duty-slm2{n}", "duty_officer", "RS")
                            for n in "abc")
    with ExitStack() as stack:
        _open(stack, limited, first), _open(stack, limited, first), _open(stack, limited, second)
        assert len(_limits(limited)) == TOTAL
        refused = httpx.get(f"{limited.url}/live/alerts", headers=third.headers, timeout=10)
        assert refused.status_code == 503 and refused.headers["retry-after"]
        assert "CRISIS_MAX_STREAMS" in refused.json()["detail"]
        assert httpx.get(f"{limited.url}/live/assets", headers=third.headers, timeout=10).status_code == 503
        _open(stack, limited, first)  # the first user's own oldest gives way: still 3 in all
        assert len(_limits(limited)) == TOTAL
    _all_closed(limited)
    with ExitStack() as stack:  # places given back: the refused user gets one now
        _open(stack, limited, third)
    _all_closed(limited)
