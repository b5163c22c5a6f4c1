"""Archive files that only the service account may read: folders 0700, files 0600.

The record and audit archives hold classified alerts of every nation and who did what; on a shared host
anyone else must not read them. Every folder ``private_dir`` creates is 0700 and the archive folder itself is
set to 0700 even when it existed before; ``tighten`` sets an existing archive (made by an earlier version)
to these modes, folder and files; ``append_lines`` creates a file 0600 (and sets an existing one to
0600), appends, flushes and fsyncs before it returns. POSIX modes; raises ``OSError`` when the folder or file
cannot be made or written.
"""
from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a folder, it and every folder made for it 0700."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is narrowed by the umask, never widened; say it exactly
    os.chmod(path, DIR_MODE)
    return path


def tighten(path: Path) -> None:
    """An existing archive folder ``path`` to 0700 and the files in it to 0600 (nothing when it is absent)."""
    path = Path(path)
    if not path.is_dir():
        return
    os.chmod(path, DIR_MODE)
    for item in path.iterdir():
        if item.is_file() and item.stat().st_mode & 0o777 != FILE_MODE:
            os.chmod(item, FILE_MODE)


def append_lines(path: Path, lines: list[str]) -> None:
    """Append ``lines`` (each without its newline) to the file ``path`` (0600), fsync'ed before returning."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as archive:
            fd = -1
            archive.write("\n".join(lines) + "\n")
            archive.flush()
            os.fsync(archive.fileno())
    finally:
        if fd >= 0:
            os.close(fd)
