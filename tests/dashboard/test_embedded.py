"""The embedded Valkey asks for its password from its very first connection (``dashboard.embedded``)."""
from __future__ import annotations

import socket
import stat
import threading

import redis

from dashboard.embedded import EmbeddedValkey


def _first_reply(port: int, done: threading.Event, replies: list[bytes]) -> None:
    """Knock on ``port`` as fast as possible until the server answers an unauthenticated PING (other than
    ``-LOADING``, its answer while it reads its append-only file)."""
    while not done.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                reply = sock.recv(64)
        except OSError:
            continue
        if reply:
            replies.append(reply)
            if not reply.startswith(b"-LOADING"):
                return


def test_emb001_the_first_connection_without_the_password_is_refused(tmp_path):
    embedded = EmbeddedValkey(tmp_path)
    embedded.start()  # the first start picks the port; the restart below keeps it
    port = embedded.port
    embedded.stop()
    done, replies = threading.Event(), []
    knocker = threading.Thread(target=_first_reply, args=(port, done, replies), daemon=True)
    knocker.start()
    try:
        url = embedded.start()
        knocker.join(timeout=10)
        assert replies and replies[-1].startswith(b"-NOAUTH"), replies  # never a +PONG, not even at start-up
        password = (embedded.data_dir / "password").read_text().strip()
        assert password.encode() not in open(f"/proc/{embedded.pid}/cmdline", "rb").read()  # not shown by ps
        config = embedded.data_dir / "valkey.conf"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600 and f"requirepass {password}" in config.read_text()
        assert redis.Redis.from_url(url).ping()
    finally:
        done.set()
        embedded.stop()


def test_emb002_the_start_up_log_names_the_server_but_never_its_password(tmp_path, caplog):
    from dashboard.runtime import store_for
    from dashboard.settings import Settings

    caplog.set_level("INFO", logger="dashboard.runtime")
    with store_for(Settings(redis_url="", data_dir=tmp_path)) as store:
        password = (store.embedded.data_dir / "password").read_text().strip()
        assert f"127.0.0.1:{store.embedded.port}" in caplog.text and password not in caplog.text


def test_emb003_a_hung_server_is_killed_after_missed_pings_and_started_again(tmp_path):
    """SIGSTOP leaves the process alive but silent: ``watch`` kills it after three unanswered PINGs and says
    why (what health shows); the next ``watch`` starts it again on the same port with its data."""
    import os
    import signal

    from dashboard.embedded import ValkeyHung
    from tests.conftest import wait_for

    embedded = EmbeddedValkey(tmp_path)
    redis.Redis.from_url(embedded.start()).set("kept", "yes")
    first, stop, raised = embedded.pid, threading.Event(), []

    def watch():
        try:
            embedded.watch(stop, poll_s=0.05, ping_s=0.1, ping_timeout_s=0.3, max_missed=3)
        except Exception as exc:  # noqa: BLE001  what the supervisor would log and show
            raised.append(exc)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        watcher.start()
        os.kill(first, signal.SIGSTOP)
        wait_for(lambda: raised, 30, "watch to give up on the stopped server")
        assert isinstance(raised[0], ValkeyHung) and "answered no PING 3 times" in str(raised[0])
        assert embedded.server._process.poll() is not None  # killed, not left stopped
        restarted = threading.Thread(target=embedded.watch, args=(stop,), name="emb003-watch", daemon=True)
        restarted.start()
        url = wait_for(lambda: embedded.pid != first and _url_of(embedded), 30, "the server to start again")
        assert redis.Redis.from_url(url).get("kept") == b"yes"
    finally:
        stop.set()
        for thread in threading.enumerate():
            if thread.name == "emb003-watch":
                thread.join(timeout=10)  # ends at its next poll, before the server is stopped under it
        embedded.stop()


def _url_of(embedded: EmbeddedValkey) -> str:
    from dashboard.embedded import running_url

    return running_url(embedded.data_dir)
