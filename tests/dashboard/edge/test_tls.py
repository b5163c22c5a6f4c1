"""HTTPS: ``crisisdash serve --certfile --keyfile`` with a self-signed certificate made by openssl (as the README
says), and a reverse proxy's ``X-Forwarded-Proto``: HSTS and ``Secure`` cookies over HTTPS only."""
from __future__ import annotations

import ssl
import subprocess
import sys
import uuid

import httpx
import pytest
import redis

from tests.conftest import ROOT, _delete_prefix, _spawn, free_port, stop_server, wait_for, RunningServer


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[ssl.SSLContext, str, str]:
    """A self-signed certificate for 127.0.0.1, as the README makes it: (a context trusting it, cert, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return ssl.create_default_context(cafile=str(cert)), str(cert), str(key)


@pytest.fixture(scope="module")
def https_server(redis_url, certificate):
    trust, cert, key = certificate
    prefix, port = f"test-{uuid.uuid4().hex[:12]}", free_port()
    args = ["serve", "--redis-url", redis_url, "--prefix", prefix, "--port", str(port), "--no-ingest",
            "--certfile", cert, "--keyfile", key]
    process = _spawn(args)
    url = f"https://127.0.0.1:{port}"

    def healthy():
        assert process.poll() is None, "the server exited"
        try:
            return httpx.get(f"{url}/api/v1/health", verify=trust, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    running = RunningServer(url, prefix, redis_url, process, port, args)
    try:
        wait_for(healthy, 60, "the HTTPS server to answer")
        yield running
    finally:
        stop_server(running)
        _delete_prefix(redis.Redis.from_url(redis_url), prefix)


def test_tls001_https_responses_carry_hsts_and_every_cookie_is_secure(https_server, certificate):
    trust, _, _ = certificate
    response = httpx.get(f"{https_server.url}/login", verify=trust, timeout=10)
    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    cookies = response.headers.get_list("set-cookie")
    assert cookies and all("; secure" in c.lower() for c in cookies), cookies
    assert response.headers["x-frame-options"] == "DENY"
    with pytest.raises(httpx.HTTPError):  # no plain HTTP on the HTTPS port
        httpx.get(https_server.url.replace("https:", "http:") + "/login", timeout=5)


def test_tls002_forwarded_https_counts_only_from_a_trusted_proxy(app_server):
    """Without CRISIS_TRUSTED_PROXIES nobody's X-Forwarded-Proto is believed, loopback included (uvicorn's own
    default trusted 127.0.0.1); with it, see ``tests/dashboard/edge/test_headers.py::test_edg010``."""
    plain = httpx.get(f"{app_server.url}/login", timeout=10)
    assert "strict-transport-security" not in plain.headers
    assert all("secure" not in c.lower() for c in plain.headers.get_list("set-cookie"))
    spoofed = httpx.get(f"{app_server.url}/login", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "strict-transport-security" not in spoofed.headers
    assert all("; secure" not in c.lower() for c in spoofed.headers.get_list("set-cookie"))


@pytest.mark.parametrize(("flags", "message"), [(["--certfile", "x.pem"], "go together"),
                                                (["--certfile", "/nonexistent.pem", "--keyfile", "/nonexistent.key"],
                                                 "not a readable file")])
def test_tls003_unusable_tls_settings_stop_serve_before_it_starts(flags, message):
    done = subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--redis-url", "redis://127.0.0.1:1",
                           *flags], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and message in done.stderr
