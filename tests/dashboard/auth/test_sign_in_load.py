"""Sign-ins under load, on an in-process server (real Redis, real argon2): the password checks run in their own
bounded pool, so a flood of anonymous sign-ins never holds up signed-in traffic, and the (name, address) lock
cannot be raced by concurrent attempts. A probe around ``Accounts.authenticate`` holds the checks, so what
happens while they run is asserted by order, not by timing."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import AppServer, add_user, serve_in_process, wait_for


class Held:
    """Wraps ``accounts.authenticate``: counts the checks running at once (and the most ever), and holds
    each until ``release``."""

    def __init__(self, accounts, names: str = ""):
        self.accounts, self.real, self.names = accounts, accounts.authenticate, names  # holds names starting so
        self.running = self.most = 0
        self.lock, self.gate = threading.Lock(), threading.Event()
        accounts.authenticate = self

    def __call__(self, name, password):
        if not name.startswith(self.names):
            return self.real(name, password)
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.gate.wait(60)
            return self.real(name, password)
        finally:
            with self.lock:
                self.running -= 1

    def release(self) -> None:
        self.gate.set()
        self.accounts.authenticate = self.real


def _form(server: AppServer) -> tuple[str, str]:
    """A sign-in form's CSRF token and its cookie (double-submit: any client may send the pair)."""
    page = httpx.get(f"{server.url}/login", timeout=10)
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1), page.cookies["login_csrf"]


def _post(server: AppServer, form: tuple[str, str], name: str, source: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=server.url, timeout=60, transport=transport, cookies={"login_csrf": form[1]}) as web:
        return web.post("/login", data={"username": name, "password": "wrong-password", "csrf": form[0]})


@pytest.fixture
def small_pool(redis_url) -> Iterator[AppServer]:
    yield from serve_in_process(redis_url, login_checks=2, login_rate="1000/minute",
                                login_rate_global="10000/minute")


def test_sil001_a_flood_of_sign_ins_never_holds_up_a_signed_in_request(small_pool, redis_url):
    """45 concurrent wrong sign-ins from five addresses (more than the 40 threads that serve authenticated
    requests): at most ``login_checks`` run, as many wait, the rest are refused at once (503, Retry-After);
    a signed-in request is answered while every check is still held."""
    user = add_user(redis_url, small_pool.prefix, "sil-amy", "responder", "SI")
    form = _form(small_pool)
    held = Held(small_pool.services.accounts)
    flood = ThreadPoolExecutor(45)
    try:
        futures = [flood.submit(_post, small_pool, form, f"nobody-{i}", f"127.0.0.{40 + i % 5}") for i in range(45)]
        wait_for(lambda: sum(f.done() for f in futures) == 41, 30, "the sign-ins past the pool to be refused")
        refused = [f.result() for f in futures if f.done()]
        assert {r.status_code for r in refused} == {503} and all(r.headers["retry-after"] == "1" for r in refused)
        assert held.running == 2
        me = httpx.get(f"{small_pool.url}/api/v1/me", headers=user.headers, timeout=30)
        assert me.status_code == 200 and me.json()["name"] == "sil-amy"
        assert sum(f.done() for f in futures) == 41  # the flood is still under way
    finally:
        held.release()
        flood.shutdown(wait=True)
    assert held.most == 2
    assert sorted(f.result().status_code for f in futures) == [401] * 4 + [503] * 41


def test_sil004_a_browser_with_a_device_cookie_has_its_own_lane(small_pool, redis_url):
    """With every slot (running and waiting) of the sign-ins taken by a flood of unknown clients, the user's
    own browser, holding the device cookie of an earlier sign-in, still signs in at once; the same user from a
    new browser is turned away (503) like the flood."""
    user = add_user(redis_url, small_pool.prefix, "sil-kim", "responder", "SI")
    home = httpx.Client(base_url=small_pool.url, timeout=60)
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.get("/login").text).group(1)
    assert home.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf}
                     ).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.get("/login").text).group(1)
    form = _form(small_pool)
    held = Held(small_pool.services.accounts, names="nobody-")
    flood = ThreadPoolExecutor(8)
    try:
        futures = [flood.submit(_post, small_pool, form, f"nobody-{i}", "127.0.0.70") for i in range(5)]
        wait_for(lambda: held.running == 2 and sum(f.done() for f in futures) == 1, 30,
                 "two checks running, two waiting, one refused")
        assert futures[[f.done() for f in futures].index(True)].result().status_code == 503
        stranger = httpx.post(f"{small_pool.url}/login", cookies={"login_csrf": form[1]}, timeout=30,
                              data={"username": user.name, "password": user.password, "csrf": form[0]})
        assert stranger.status_code == 503
        mine = home.post("/login", data={"username": user.name, "password": user.password, "csrf": csrf})
        assert mine.status_code == 303 and held.running == 2  # the flood's checks are still held
    finally:
        held.release()
        flood.shutdown(wait=True)
        home.close()
    assert sorted(f.result().status_code for f in futures) == [401] * 4 + [503]


@pytest.fixture
def wide_pool(redis_url) -> Iterator[AppServer]:
    yield from serve_in_process(redis_url, login_checks=16, login_rate="1000/minute",
                                login_rate_global="10000/minute")


def test_sil002_concurrent_wrong_passwords_cannot_race_the_lock(wide_pool):
    """20 concurrent wrong passwords for one (name, address) pair: only ``login_max_failures`` (5) are checked
    at all; the other 15 are refused (429) while those five are still being checked."""
    form = _form(wide_pool)
    held = Held(wide_pool.services.accounts)
    flood = ThreadPoolExecutor(20)
    try:
        futures = [flood.submit(_post, wide_pool, form, "sil-bob", "127.0.0.50") for _ in range(20)]
        wait_for(lambda: sum(f.done() for f in futures) == 15, 30, "every attempt past the fifth to be refused")
        assert {f.result().status_code for f in futures if f.done()} == {429}
        assert held.running == 5
    finally:
        held.release()
        flood.shutdown(wait=True)
    assert sorted(f.result().status_code for f in futures) == [401] * 5 + [429] * 15
    failures = [e for e in wide_pool.services.centre.audit.read_all() if e.action == "login.failure"]
    assert len(failures) == 5


def test_sil003_past_the_global_limit_refusals_are_unchecked_and_sampled_in_the_audit(redis_url):
    """Ten wrong sign-ins from ten addresses with a global limit of three (an hour): three checked and audited in full
    (``login.failure``); the other seven are refused without a password check and sampled (one
    ``login.throttled`` a minute, at most two if the minute turns), not one entry per address."""
    running = serve_in_process(redis_url, login_rate="1000/minute", login_rate_global="3/hour")
    server = next(running)
    try:
        form = _form(server)
        checks = []
        real = server.services.accounts.authenticate
        server.services.accounts.authenticate = lambda name, password: checks.append(name) or real(name, password)
        codes = [_post(server, form, f"sil-x{i}", f"127.0.0.{60 + i}").status_code for i in range(10)]
        assert codes == [401] * 3 + [429] * 7
        assert checks == ["sil-x0", "sil-x1", "sil-x2"]  # past the limit no argon2 work at all
        entries = server.services.centre.audit.read_all()
        failures = [e for e in entries if e.action == "login.failure"]
        assert [e.object for e in failures] == ["sil-x0", "sil-x1", "sil-x2"] and failures[0].detail == {}
        sampled = [e for e in entries if e.action == "login.throttled"]
        assert 1 <= len(sampled) <= 2 and sampled[0].object == "sil-x3" and sampled[0].detail["sampled"]
        assert sampled[0].detail["limit"] == "login-global"
    finally:
        running.close()
