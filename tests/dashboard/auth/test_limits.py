"""Sign-in throttling per (user name, client address), rate limits, trusted proxies and bounded user names,
against a real ``crisisdash serve`` on a real Redis; clients bind loopback source addresses (127.0.0.x)."""
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import redis

from alerts.store.audit import AuditLog
from alerts.store.keys import Keys
from tests.conftest import (
    RunningServer,
    add_user,
    serving,
)

#: Per hour, not per minute: nine sign-ins (each an argon2 check) may take longer than the 7.5 s a per-minute
#: budget needs to refill one attempt on a loaded machine, and the ninth would then be let through.
SETTINGS = {"CRISIS_LOGIN_RATE": "8/hour", "CRISIS_API_RATE": "30/minute"}


@pytest.fixture(scope="module")
def edge(redis_url) -> Iterator[RunningServer]:
    """A server with small limits and no trusted proxy."""
    yield from serving(redis_url, **SETTINGS)


@pytest.fixture(scope="module")
def proxied(redis_url) -> Iterator[RunningServer]:
    """A server that trusts the proxy at 127.0.0.6 (only)."""
    yield from serving(redis_url, **SETTINGS, CRISIS_TRUSTED_PROXIES="127.0.0.6")


def _browser(server: RunningServer, source: str) -> httpx.Client:
    """A client whose connections come from ``source`` (a loopback address)."""
    return httpx.Client(base_url=server.url, timeout=20, transport=httpx.HTTPTransport(local_address=source))


def _sign_in(web: httpx.Client, name: str, password: str, headers: dict | None = None) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    return web.post("/login", data={"username": name, "password": password, "csrf": csrf}, headers=headers or {})


def _audit(server: RunningServer) -> list:
    return AuditLog(redis.Redis.from_url(server.redis_url), Keys(server.prefix)).read_all()


def test_lim001_failures_from_one_address_never_block_another(edge, redis_url):
    user = add_user(redis_url, edge.prefix, "lim-alice", "responder", "SI")
    attacker, owner = _browser(edge, "127.0.0.2"), _browser(edge, "127.0.0.3")
    assert [_sign_in(attacker, "LIM-Alice ", "wrong-password").status_code for _ in range(5)] == [401] * 5
    locked = _sign_in(attacker, user.name, user.password)  # even the right password, from that address
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 800
    assert "Too many failed attempts for this user name from your address" in locked.text
    assert _sign_in(owner, user.name, user.password).status_code == 303
    assert _sign_in(owner, "ＬＩＭ-ＡＬＩＣＥ", user.password).status_code == 303  # full-width: the same name
    failures = [e for e in _audit(edge) if e.action == "login.failure" and e.object == "lim-alice"]
    assert len(failures) == 5 and {e.ip for e in failures} == {"127.0.0.2"}


def test_lim002_sign_in_attempts_per_address_are_rate_limited(edge):
    flood, other = _browser(edge, "127.0.0.4"), _browser(edge, "127.0.0.5")
    answers = [_sign_in(flood, f"nobody-{i}", "wrong-password") for i in range(9)]
    assert [a.status_code for a in answers] == [401] * 8 + [429]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 450  # one attempt back per 7.5 minutes
    assert "Too many sign-in attempts from your address" in answers[-1].text
    assert _sign_in(other, "nobody", "wrong-password").status_code == 401  # another address is not limited
    limited = [e for e in _audit(edge) if e.action == "rate.limited" and e.object == "127.0.0.4"]
    assert len(limited) == 1 and limited[0].detail["limit"] == "login"


def test_lim003_api_requests_per_token_and_session_are_rate_limited(edge, redis_url):
    first = add_user(redis_url, edge.prefix, "lim-bob", "responder", "SI")
    second = add_user(redis_url, edge.prefix, "lim-carol", "responder", "SI")
    with httpx.Client(base_url=edge.url, timeout=20) as api:
        codes = [api.get("/api/v1/me", headers=first.headers).status_code for _ in range(31)]
        assert codes == [200] * 30 + [429]
        refused = api.get("/api/v1/me", headers=first.headers)
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 2
        assert refused.json()["reason"] == "rate_limited" and refused.json()["limit"] == "api"
        assert api.get("/api/v1/me", headers=second.headers).status_code == 200
    web = _browser(edge, "127.0.0.8")
    assert _sign_in(web, second.name, second.password).status_code == 303
    assert [web.get("/api/v1/me").status_code for _ in range(31)][-1] == 429
    token_id = first.token.split("_")[1]
    uses = [e for e in _audit(edge) if e.action == "token.use" and e.object == token_id]
    assert len(uses) == 1  # first use per token per hour


def test_lim004_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(edge, proxied):
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    for source in ("127.0.0.1", "127.0.0.9"):  # loopback is not trusted by default either
        _sign_in(_browser(edge, source), "lim-spoof", "wrong-password", spoofed)
    assert {e.ip for e in _audit(edge) if e.object == "lim-spoof"} == {"127.0.0.1", "127.0.0.9"}

    proxy, stranger = _browser(proxied, "127.0.0.6"), _browser(proxied, "127.0.0.7")
    for _ in range(5):
        assert _sign_in(proxy, "lim-dave", "wrong-password", {"X-Forwarded-For": "203.0.113.7"}).status_code == 401
    assert _sign_in(proxy, "lim-dave", "x", {"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # Another client behind the same proxy is another address; the proxy's own hop is skipped.
    chained = {"X-Forwarded-For": "198.51.100.3, 127.0.0.6"}
    assert _sign_in(proxy, "lim-dave", "wrong-password", chained).status_code == 401
    _sign_in(stranger, "lim-dave", "wrong-password", {"X-Forwarded-For": "203.0.113.7"})  # not a proxy
    ips = [e.ip for e in _audit(proxied) if e.object == "lim-dave"]
    assert set(ips) == {"203.0.113.7", "198.51.100.3", "127.0.0.7"}


def _prefix_memory(client: redis.Redis, prefix: str) -> tuple[int, int]:
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    return len(keys), sum(client.memory_usage(k) or 0 for k in keys)


def test_lim005_a_megabyte_user_name_stores_a_few_kilobytes(edge):
    """Anonymous memory growth: the 1 MB name never reaches the store; a 200 KB one stores a few KB."""
    client = redis.Redis.from_url(edge.redis_url)
    web = _browser(edge, "127.0.0.10")
    _sign_in(web, "warm-up", "wrong-password")  # the address's first keys exist before measuring
    keys_before, bytes_before = _prefix_memory(client, edge.prefix)
    for _ in range(5):  # a 1 MB form is refused before it is read (CRISIS_MAX_REQUEST_BYTES)...
        assert _sign_in(web, "A" * 1_000_000, "wrong-password").status_code == 413
    for _ in range(5):  # ...and a name as long as the limit allows is cut before anything is stored
        assert _sign_in(web, "A" * 200_000, "wrong-password").status_code == 401
    keys_after, bytes_after = _prefix_memory(client, edge.prefix)
    assert keys_after - keys_before <= 3  # the long name's lock and one audit-hour mark at most
    assert bytes_after - bytes_before < 6_000, bytes_after - bytes_before
    entry = [e for e in _audit(edge) if e.action == "login.failure"][-1]
    assert len(entry.object) < 80 and entry.object.startswith("a" * 64)


def test_lim006_past_the_global_limit_only_a_known_browser_is_checked(redis_url):
    """The global sign-in limit: once others have filled it, a client without a device cookie for the name is
    refused (429) whether its password is right or wrong (no oracle, no argon2 work), while the owner's
    browser, holding the device cookie of an earlier sign-in, still signs in."""
    flooded = serving(redis_url, CRISIS_LOGIN_RATE_GLOBAL="5/hour")  # per hour: no refill while it runs
    server = next(flooded)
    try:
        owner = add_user(redis_url, server.prefix, "lim-erin", "responder", "SI")
        known = _browser(server, "127.0.0.31")
        assert _sign_in(known, owner.name, owner.password).status_code == 303  # 1 of 5; sets the device cookie
        for i in range(4):  # four addresses, one failure each: the global budget is spent
            assert _sign_in(_browser(server, f"127.0.0.{20 + i}"), "lim-erin", "guess").status_code == 401
        wrong = _sign_in(_browser(server, "127.0.0.30"), "lim-erin", "guess")
        assert wrong.status_code == 429 and int(wrong.headers["retry-after"]) >= 1
        assert "from everywhere" in wrong.text
        right = _sign_in(_browser(server, "127.0.0.32"), owner.name, owner.password)
        assert right.status_code == 429 and right.text == wrong.text.replace(*_csrf_pair(wrong, right))
        assert _sign_in(known, owner.name, owner.password).status_code == 303
        limited = [e for e in _audit(server) if e.action == "rate.limited"]
        # sampled: the first refusal of the minute whatever the address (a flood cannot fill the stream)
        assert [(e.object, e.detail["limit"]) for e in limited] == [("127.0.0.30", "login-global")]
    finally:
        flooded.close()


def test_lim007_forwarded_entries_that_are_no_ip_address_are_ignored(proxied):
    """Behind the trusted proxy: an entry that is not an address never becomes the client (nor its limit key);
    the next valid hop does, or the proxy itself when there is none."""
    proxy = _browser(proxied, "127.0.0.6")
    cases = [("garbage", "lim-xff1", "127.0.0.6"), ("999.999.1.1", "lim-xff2", "127.0.0.6"),
             ("a" * 3000, "lim-xff3", "127.0.0.6"), ("198.51.100.77, garbage", "lim-xff4", "198.51.100.77"),
             ("203.0.113.50:4711, 999.1.1.1:80, 127.0.0.6", "lim-xff5", "203.0.113.50"),
             ("[2001:db8::5]:443, not-an-ip", "lim-xff6", "2001:db8::5")]
    for forwarded, name, _ in cases:
        assert _sign_in(proxy, name, "wrong-password", {"X-Forwarded-For": forwarded}).status_code == 401
    ips = {e.object: e.ip for e in _audit(proxied) if e.object.startswith("lim-xff")}
    assert ips == {name: client for _, name, client in cases}


def _csrf_pair(first: httpx.Response, second: httpx.Response) -> tuple[str, str]:
    """The two pages' fresh CSRF tokens (the only part of two refusals that differs)."""
    token = re.compile(r'name="csrf" value="([^"]+)"')
    return token.search(first.text).group(1), token.search(second.text).group(1)
