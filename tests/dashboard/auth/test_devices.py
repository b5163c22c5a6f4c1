"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a user name's failure budget
over all addresses and the global sign-in limit refuse clients without a device cookie for that name before
any password check, while a browser the user has signed in with is still checked. In-process server, real
Redis, real argon2; clients bind loopback source addresses (127.0.0.x). Password checks are counted by a
wrapper around ``Accounts.authenticate``, so "no argon2" is asserted by count, never by timing."""
from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from alerts.store.accounts import Accounts
from alerts.store.devices import Devices, device_cookie_name
from tests.conftest import AppServer, add_user, serve_in_process

#: Small limits: a name's budget of 4 failures (an hour, so nothing refills while a test runs), 3 per pair.
LIMITS = {"login_rate": "1000/hour", "login_rate_global": "1000/hour", "login_account_failures": "4/hour",
          "login_max_failures": 3}


class Checks:
    """Counts the password checks (``Accounts.authenticate`` calls) of a server, by user name."""

    def __init__(self, server: AppServer):
        self.names: list[str] = []
        accounts = server.services.accounts
        real = accounts.authenticate

        def counted(name: str, password: str):
            self.names.append(name)
            return real(name, password)

        accounts.authenticate = counted


@pytest.fixture
def guarded(redis_url) -> Iterator[AppServer]:
    yield from serve_in_process(redis_url, **LIMITS)


def _browser(server: AppServer, source: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address=source))


def _sign_in(web: httpx.Client, name: str, password: str) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    return web.post("/login", data={"username": name, "password": password, "csrf": csrf})


def _message(page: httpx.Response) -> str:
    return re.search(r'role="alert">([^<]*)<', page.text).group(1)


def test_dev001_a_guesser_rotating_addresses_spends_the_budget_then_nothing_is_checked(guarded, redis_url):
    user = add_user(redis_url, guarded.prefix, "dev-amy", "responder", "SI")
    home = _browser(guarded, "127.0.1.1")
    signed_in = _sign_in(home, user.name, user.password)  # the user's browser: it gets a device cookie
    assert signed_in.status_code == 303
    device = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith(device_cookie_name("dev-amy")))
    assert {"HttpOnly", "Path=/login", "SameSite=strict", "Max-Age=15552000"} <= {p.strip() for p in device.split(";")}
    checks = Checks(guarded)
    # four addresses, one wrong guess each (no pair is near its lock of 3): the name's budget is spent
    assert [_sign_in(_browser(guarded, f"127.0.1.{10 + i}"), "dev-amy", "guess").status_code
            for i in range(4)] == [401] * 4
    assert len(checks.names) == 4
    wrong = _sign_in(_browser(guarded, "127.0.1.20"), "DEV-Amy", "guess")
    right = _sign_in(_browser(guarded, "127.0.1.21"), "dev-amy", user.password)
    assert wrong.status_code == right.status_code == 429  # no oracle: the same answer either way...
    assert _message(wrong) == _message(right) and "for this user name (from everywhere)" in _message(right)
    assert int(right.headers["retry-after"]) >= 1
    assert len(checks.names) == 4  # ...and no password checked for either
    assert _sign_in(home, user.name, user.password).status_code == 303  # the known browser still gets in
    assert len(checks.names) == 5
    refused = [e for e in guarded.services.centre.audit.read_all() if e.action == "login.throttled"]
    assert 1 <= len(refused) <= 2 and refused[0].detail["limit"] == "account" and refused[0].detail["sampled"]


def test_dev002_a_device_cookie_holder_locks_only_its_own_device_not_the_name(guarded, redis_url):
    user = add_user(redis_url, guarded.prefix, "dev-ben", "responder", "SI")
    stolen = _browser(guarded, "127.0.2.1")
    assert _sign_in(stolen, user.name, user.password).status_code == 303
    checks = Checks(guarded)
    answers = [_sign_in(stolen, user.name, "guess") for _ in range(4)]
    assert [a.status_code for a in answers] == [401] * 3 + [429]  # the device's own lock (3)
    assert "from this browser" in _message(answers[-1]) and len(checks.names) == 3
    # three failures from a device: the name's budget (4) is untouched, the address is not locked
    neighbour = _browser(guarded, "127.0.2.1")  # same address, no device cookie
    assert [_sign_in(neighbour, user.name, "guess").status_code for _ in range(3)] == [401] * 3
    assert _sign_in(_browser(guarded, "127.0.2.2"), user.name, user.password).status_code == 303


def test_dev003_past_the_global_limit_only_a_device_cookie_holder_is_checked(redis_url):
    running = serve_in_process(redis_url, **{**LIMITS, "login_rate_global": "3/hour"})
    server = next(running)
    try:
        user = add_user(redis_url, server.prefix, "dev-cat", "responder", "SI")
        home = _browser(server, "127.0.3.1")
        assert _sign_in(home, user.name, user.password).status_code == 303  # 1 of 3
        checks = Checks(server)
        assert [_sign_in(_browser(server, f"127.0.3.{10 + i}"), f"dev-x{i}", "guess").status_code
                for i in range(2)] == [401] * 2  # 3 of 3
        fresh = [_sign_in(_browser(server, f"127.0.3.{20 + i}"), user.name, password)
                 for i, password in enumerate((user.password, "guess"))]
        assert [r.status_code for r in fresh] == [429, 429] and "from everywhere" in _message(fresh[0])
        assert checks.names == ["dev-x0", "dev-x1"]  # the refused ones cost no argon2
        assert _sign_in(home, user.name, user.password).status_code == 303
        assert checks.names == ["dev-x0", "dev-x1", "dev-cat"]
    finally:
        running.close()


def test_dev004_forged_foreign_and_replaced_device_cookies_do_not_count(guarded, redis_url):
    user = add_user(redis_url, guarded.prefix, "dev-dan", "responder", "SI")
    other = add_user(redis_url, guarded.prefix, "dev-eve", "responder", "SI")
    mine = _browser(guarded, "127.0.4.1")
    assert _sign_in(mine, user.name, user.password).status_code == 303
    first = mine.cookies.get(device_cookie_name("dev-dan"), path="/login")
    assert _sign_in(mine, user.name, user.password).status_code == 303  # each sign-in replaces the cookie
    theirs = _browser(guarded, "127.0.4.2")
    assert _sign_in(theirs, other.name, other.password).status_code == 303
    foreign = theirs.cookies.get(device_cookie_name("dev-eve"), path="/login")
    for i in range(4):  # spend dev-dan's budget
        assert _sign_in(_browser(guarded, f"127.0.4.{10 + i}"), "dev-dan", "guess").status_code == 401
    checks = Checks(guarded)
    valid = mine.cookies.get(device_cookie_name("dev-dan"), path="/login")
    payload, signature = valid.rsplit(".", 1)
    devices = Devices(guarded.services.client, guarded.services.keys)
    nonce = devices.holder("dev-dan", devices.issue("dev-dan"))
    forged = [first,  # replaced by a later sign-in: revoked
              foreign,  # another user's cookie, under this user's cookie name
              payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:],  # a bad signature
              URLSafeSerializer(b"not-the-secret", salt="device").dumps(["dev-dan", nonce]),  # a recorded nonce
              "garbage"]
    for value in forged:
        web = _browser(guarded, "127.0.4.30")
        web.cookies.set(device_cookie_name("dev-dan"), value, path="/login")
        assert _sign_in(web, user.name, user.password).status_code == 429
    assert checks.names == []
    assert _sign_in(mine, user.name, user.password).status_code == 303


def test_dev005_disabling_the_user_or_changing_its_password_revokes_its_device_cookies(client, keys):
    accounts, devices = Accounts(client, keys), Devices(client, keys)
    accounts.add_user("dev-fay", "responder", "SI", "a-long-password")
    accounts.add_user("dev-gus", "responder", "SI", "a-long-password")
    fay, gus = devices.issue("dev-fay"), devices.issue("dev-gus")
    assert devices.holder("dev-fay", fay) and devices.holder("dev-gus", gus)
    assert devices.holder("dev-fay", gus) is None  # names another user
    accounts.set_password("dev-fay", "another-long-password")
    assert devices.holder("dev-fay", fay) is None
    fay = devices.issue("dev-fay")
    assert devices.holder("dev-fay", fay)
    accounts.disable_user("DEV-Fay")
    assert devices.holder("dev-fay", fay) is None and devices.holder("dev-gus", gus)


def test_dev006_a_login_form_pair_the_server_never_issued_is_refused_before_anything_else(guarded):
    checks = Checks(guarded)
    with httpx.Client(base_url=guarded.url, timeout=30, cookies={"login_csrf": "x"}) as web:
        refused = web.post("/login", data={"username": "dev-hal", "password": "guess", "csrf": "x"})
    assert refused.status_code == 403 and checks.names == []
    form = _browser(guarded, "127.0.6.1").get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    assert form.cookies["login_csrf"] == token and Devices(guarded.services.client, guarded.services.keys
                                                           ).form_valid(token, token)
    assert not Devices(guarded.services.client, guarded.services.keys).form_valid("ä" + token, "ä" + token)


@pytest.fixture
def tight_address(redis_url) -> Iterator[AppServer]:
    yield from serve_in_process(redis_url, **{**LIMITS, "login_rate": "5/hour"})


def test_dev007_posts_from_the_users_address_never_lock_their_own_browser(tight_address, redis_url):
    """21 junk POSTs a minute from 127.0.0.1 (no form token) locked every user of that address out of sign-in,
    their own browsers included: the address's limit counted before the form token and the device cookie.
    Now a post without a token the server issued counts nowhere, and a device cookie holder is not counted
    by the address's limit (its own lock keeps guessing bounded)."""
    server = tight_address
    user = add_user(redis_url, server.prefix, "dev-kim", "responder", "SI")
    home = _browser(server, "127.0.4.1")
    assert _sign_in(home, user.name, user.password).status_code == 303  # the browser gets its device cookie
    checks = Checks(server)
    junk = _browser(server, "127.0.4.1")
    for _ in range(10):  # no form token: refused, counted nowhere, no password checked
        assert junk.post("/login", data={"username": "x", "password": "y"}).status_code == 403
    assert checks.names == []
    stranger = _browser(server, "127.0.4.1")  # a guesser with real form tokens, from the same address
    answers = [_sign_in(stranger, f"someone-{i}", "guess").status_code for i in range(5)]
    assert answers == [401] * 4 + [429]  # the address's limit (5/hour, the user's first sign-in one) holds
    assert _sign_in(home, user.name, user.password).status_code == 303  # the user's browser is not locked out
