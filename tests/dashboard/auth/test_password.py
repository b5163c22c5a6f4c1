"""A password set anew (``crisisdash user passwd``): every session of that user ends, its open streams too;
its API tokens, and everyone else's sessions, stay; the change is audited."""
from __future__ import annotations

import re
import subprocess
import sys

import httpx

from tests.conftest import ROOT, add_user
from tests.dashboard.auth.test_recheck import _ends_with_revoked


def _signed_in(app_server, name: str, password: str) -> httpx.Client:
    web = httpx.Client(base_url=app_server.url, timeout=10, follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/login").text).group(1)
    answer = web.post("/login", data={"username": name, "password": password, "csrf": csrf, "next": "/"})
    assert answer.status_code == 303, answer.text
    return web


def _me(web: httpx.Client) -> int:
    return web.get("/api/v1/me").status_code


def test_pwd001_a_new_password_ends_every_session_of_the_user_and_nothing_else(app_server):
    url, prefix, accounts = app_server.services.settings.redis_url, app_server.prefix, app_server.services.accounts
    user = add_user(url, prefix, "pwd1", "duty_officer", "MK")
    other = add_user(url, prefix, "pwd1-other", "duty_officer", "MK")
    laptop, phone = _signed_in(app_server, user.name, user.password), _signed_in(app_server, user.name, user.password)
    bystander = _signed_in(app_server, other.name, other.password)
    assert _me(laptop) == _me(phone) == _me(bystander) == 200
    _ends_with_revoked(app_server, "/live/alerts", lambda: accounts.set_password(user.name, "a-new-password-2"),
                       cookies=dict(laptop.cookies))
    assert _me(laptop) == _me(phone) == 401  # both sessions made before the change
    assert _me(bystander) == 200
    assert httpx.get(f"{app_server.url}/api/v1/me", headers=user.headers, timeout=5).status_code == 200  # token kept
    assert accounts.authenticate(user.name, user.password) is None
    assert _me(_signed_in(app_server, user.name, "a-new-password-2")) == 200  # a session made after it counts


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_pwd002_cli_passwd_sets_the_password_audits_it_and_refuses_what_it_cannot_do(app_server):
    url, prefix, accounts = app_server.services.settings.redis_url, app_server.prefix, app_server.services.accounts
    user = add_user(url, prefix, "Pwd2", "responder", "AL")
    web = _signed_in(app_server, user.name, user.password)
    common = ["--redis-url", url, "--prefix", prefix]
    done = _cli("user", "passwd", "PWD2", "--password-stdin", *common, stdin="another-long-one-3\n")
    assert done.returncode == 0, done.stderr
    assert "pwd2" in done.stdout and "sessions ended" in done.stdout
    assert _me(web) == 401 and accounts.authenticate("pwd2", "another-long-one-3") is not None
    short = _cli("user", "passwd", "pwd2", "--password-stdin", *common, stdin="short\n")
    nobody = _cli("user", "passwd", "nobody-here", "--password-stdin", *common, stdin="another-long-one-4\n")
    assert (short.returncode, nobody.returncode) == (2, 2)
    assert "10 characters" in short.stderr and "no user" in nobody.stderr
    assert accounts.authenticate("pwd2", "another-long-one-3") is not None  # the refused ones changed nothing
    changes = [e for e in app_server.services.centre.audit.read(200) if e.action == "user.password"]
    assert [(e.object, e.actor.startswith("cli:")) for e in changes] == [("pwd2", True)]  # once: the refused not
