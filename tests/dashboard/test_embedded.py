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
