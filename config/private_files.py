"""Files that hold link tokens or personal data, created readable by their owner only.

The outbox's messages carry each unit's link (a bearer token), the database and the reports
hold names, contacts and summaries. On a shared office server another local account must not
read them, whatever the process's umask: the modes are given when the file or folder is
created, not fixed afterwards (a file made 0644 and then narrowed can be opened in between).
Folders that already exist are left as their owner set them: `--out .` must not narrow the
clerk's own working folder.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """`path` and any missing parent, each created owner-only."""
    missing = []
    at = path
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for folder in reversed(missing):
        # exist_ok: another process may make it meanwhile.
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return path


def open_private(path: Path, mode: str = "wb", **kwargs: Any) -> IO[Any]:
    """`open(path, mode)` for writing, the file created (or truncated) owner-only. A file that
    existed with a wider mode is narrowed before anything is written into it."""
    if not mode.startswith("w"):
        raise ValueError(f"open_private writes; mode {mode!r}")
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    """The whole file written at once, owner-only."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    with open_private(path) as handle:
        handle.write(raw)
    return path


def private_database_file(path: Path) -> None:
    """Create an empty SQLite file owner-only before SQLite creates it with the umask's mode.
    SQLite gives its -wal and -shm files the mode of the database file, so they follow."""
    if path.exists():
        return
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
