"""Which ``crisisdash serve`` processes on the embedded Valkey run on this machine, for this OS user.

One-off commands (``publish``, ``user``, ``exercise``...) without
``--redis-url`` talk to the embedded Valkey of a running ``serve``; when none
runs on the data directory they were given (``./data`` by default, relative
to where they are started), this registry says which ones do, so the command
can use the only one or name the ``--data-dir`` to give.

A ``serve`` writes ``serve-<pid>.json`` (``{"pid": int, "data_dir": absolute
path, "address": "http://host:port"}``) into the registry directory at start
and removes it at stop; an entry whose process is gone is ignored (and
removed). The directory is ``$XDG_RUNTIME_DIR/crisisdash`` (the XDG Base
Directory specification's per-user runtime directory) or, without it,
``<temp dir>/crisisdash-<uid>``, created with mode 0700. Entries hold no
secret: the password stays in the data directory.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunningServe:
    """One running ``crisisdash serve``: its process id, absolute data directory and web address."""

    pid: int
    data_dir: Path
    address: str


def registry_dir() -> Path:
    """The registry directory (module docstring), created 0700 if missing."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(runtime) / "crisisdash" if runtime else Path(tempfile.gettempdir()) / f"crisisdash-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def register(data_dir: Path, address: str) -> Path:
    """Record this process as a ``serve`` on ``data_dir`` answering at ``address``; returns the entry's path
    (give it to ``unregister`` at stop)."""
    entry = registry_dir() / f"serve-{os.getpid()}.json"
    entry.write_text(json.dumps({"pid": os.getpid(), "data_dir": str(Path(data_dir).resolve()),
                                 "address": address}))
    return entry


def unregister(entry: Path) -> None:
    """Remove an entry written by ``register`` (no error if it is already gone)."""
    entry.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (signal 0; one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running() -> list[RunningServe]:
    """The ``serve`` processes that are running now, by data directory (stale entries are removed)."""
    found = []
    for entry in sorted(registry_dir().glob("serve-*.json")):
        try:
            state = json.loads(entry.read_text())
            serve = RunningServe(int(state["pid"]), Path(state["data_dir"]), str(state["address"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if alive(serve.pid):
            found.append(serve)
        else:
            entry.unlink(missing_ok=True)
    return sorted(found, key=lambda s: str(s.data_dir))
