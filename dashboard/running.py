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
secret: the password stays in the data directory. A registry folder, an entry, or a data folder's Valkey
state that is not this user's alone (``private``) is not believed: in a shared temporary folder another
user could otherwise make it first and point this user's commands at their own server.
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


class UntrustedPath(RuntimeError):
    """A registry or data folder this user does not own alone (another user made it, or may write in it):
    what it says is not to be believed (it could send this user's commands, alerts and passwords to another
    user's server). The message names the path and what is wrong."""


def private(path: Path) -> str | None:
    """Why ``path`` cannot be trusted as this user's own (``None``: it can): it must be owned by this user and,
    for a folder, open to nobody else (mode ``0o077`` bits clear); a file must not be writable by others."""
    try:
        info = Path(path).stat()
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    if info.st_uid != os.getuid():
        return f"{path} is owned by uid {info.st_uid}, not by you (uid {os.getuid()})"
    loose = 0o077 if Path(path).is_dir() else 0o022
    if info.st_mode & loose:
        return f"{path} is open to other users (mode {info.st_mode & 0o777:o})"
    return None


def registry_dir() -> Path:
    """The registry directory (module docstring), created 0700 if missing; ``UntrustedPath`` when it exists
    but is not this user's alone (someone made it first, e.g. in a shared temporary folder)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(runtime) / "crisisdash" if runtime else Path(tempfile.gettempdir()) / f"crisisdash-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    problem = private(path)
    if problem is not None:
        raise UntrustedPath(f"the registry of running servers cannot be trusted: {problem}; remove it, or set "
                            "XDG_RUNTIME_DIR to a folder of your own")
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
        if private(entry) is not None:
            continue  # not written by this user's serve
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
