"""The embedded Valkey asks for its password from its very first connection (``dashboard.embedded``)."""
from __future__ import annotations

import socket
import stat
import threading

import redis

from dashboard.embedded import EmbeddedValkey


def _first_reply(path: str, done: threading.Event, replies: list[bytes]) -> None:
    """Knock on the socket at ``path`` as fast as possible until the server answers an unauthenticated PING
    (other than ``-LOADING``, its answer while it reads its append-only file)."""
    while not done.is_set():
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(path)
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
    embedded.start()  # the first start picks the socket; the restart below keeps it
    path = str(embedded.socket)
    embedded.stop()
    done, replies = threading.Event(), []
    knocker = threading.Thread(target=_first_reply, args=(path, done, replies), daemon=True)
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


def _listening_tcp_inodes() -> set[str]:
    """Socket inodes of every TCP socket listening on this host (``/proc/net/tcp`` and ``tcp6``)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found.add(fields[9])
    return found


def test_emb004_the_server_listens_on_no_tcp_port_only_on_a_socket_in_its_private_folder(tmp_path):
    """A tester killed the embedded Valkey and bound its loopback port before the supervisor restarted it:
    the app then sent ``AUTH`` with the password to the squatter, 8 times in 8 s. On a socket in a folder
    only the server's user can enter, nobody else can stand in for it; and there is no port to take."""
    import os

    embedded = EmbeddedValkey(tmp_path)
    try:
        url = embedded.start()
        assert url.startswith("unix://") and "127.0.0.1" not in url
        assert stat.S_ISSOCK(embedded.socket.stat().st_mode) and embedded.socket.parent == embedded.data_dir.resolve()
        assert stat.S_IMODE(embedded.data_dir.stat().st_mode) == 0o700
        inodes = {os.stat(f"/proc/{embedded.pid}/fd/{fd}").st_ino for fd in os.listdir(f"/proc/{embedded.pid}/fd")
                  if os.readlink(f"/proc/{embedded.pid}/fd/{fd}").startswith("socket:")}
        assert not {str(i) for i in inodes} & _listening_tcp_inodes()  # no TCP listener at all
        assert redis.Redis.from_url(url).ping()
    finally:
        embedded.stop()


def test_emb005_a_data_folder_too_deep_for_a_socket_path_gets_a_private_temporary_one(tmp_path):
    from dashboard.embedded import MAX_SOCKET_PATH

    deep = tmp_path / ("d" * 60) / ("e" * 60)
    embedded = EmbeddedValkey(deep)
    try:
        assert redis.Redis.from_url(embedded.start()).ping()
        assert len(str(embedded.socket)) <= MAX_SOCKET_PATH and not embedded.socket.is_relative_to(deep)
        assert stat.S_IMODE(embedded.socket.parent.stat().st_mode) == 0o700
    finally:
        embedded.stop()


def test_emb002_the_start_up_log_names_the_server_but_never_its_password(tmp_path, caplog):
    from dashboard.runtime import store_for
    from dashboard.settings import Settings

    caplog.set_level("INFO", logger="dashboard.runtime")
    with store_for(Settings(redis_url="", data_dir=tmp_path)) as store:
        password = (store.embedded.data_dir / "password").read_text().strip()
        assert str(store.embedded.socket) in caplog.text and password not in caplog.text


def test_emb003_a_hung_server_is_killed_after_missed_pings_and_started_again(tmp_path):
    """SIGSTOP leaves the process alive but silent: ``watch`` kills it after three unanswered PINGs and says
    why (what health shows); the next ``watch`` starts it again on the same socket with its data."""
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
