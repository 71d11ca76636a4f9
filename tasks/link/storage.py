"""Where uploaded files are kept: durable, private, under names no upload can influence.

The bytes live at `<attachments_dir>/<campaign_id>/<assignment_id>/<uuid4 hex>` and the database
keeps the relative path, size and SHA-256 (`StoredFile`); the name the department gave its file
is only ever shown (`tasks.link.names`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from config.private_files import private_folder
from config.settings import get_settings
from tasks.link.names import safe_name
from tasks.link.policy import MIB, empty, too_big

CHUNK_BYTES = MIB
PART_PREFIX, PART_SUFFIX = ".upload-", ".part"
# How long a part may go unwritten before it is taken for a leftover (`sweep_parts`). A part is
# copied from a form the server has already received in full, one `CHUNK_BYTES` write at a time,
# and every write moves its mtime; the longest still moment is the final fsync of at most
# `DUBAN_UPLOAD_MAX_FILE_MB`. An hour is far past any of that, even on a slow disk under load,
# so a part untouched for an hour belongs to no live request, in this process or another
# sharing the folder.
STALE_PART_S = 3600

_log = logging.getLogger("duban.attachments")


@dataclass(frozen=True)
class StoredFile:
    relpath: str
    size: int
    sha256: str


def _root(root: Path | None) -> Path:
    return root if root is not None else get_settings().attachments_dir


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable; without it a power cut can leave the database pointing
    # at a file the directory never recorded. Windows cannot open a directory, hence the guard.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store(
    source: BinaryIO,
    campaign_id: int,
    assignment_id: int,
    max_bytes: int,
    root: Path | None = None,
    *,
    shown_name: str | None = None,
) -> StoredFile:
    """Copy `source` to a new file under a random name; refuse it past `max_bytes`.

    `shown_name` only improves the refusal message; it never reaches the file system.
    """
    if campaign_id < 0 or assignment_id < 0:
        raise ValueError("campaign_id and assignment_id must not be negative")
    base = _root(root)
    # Owner-only: the files are a department's internal material; other local accounts (a
    # shared server, a backup agent) have no business reading them.
    folder = private_folder(base / str(campaign_id) / str(assignment_id))
    label = f"附件“{safe_name(shown_name)}”" if shown_name is not None else "附件"

    # mkstemp creates the file 0o600 and with O_EXCL; writing next to the final name keeps
    # os.replace a same-filesystem rename, so a reader never sees half a file.
    fd, tmp_name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=PART_SUFFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                # Counted while reading: a declared size is the client's word, this is not.
                if size > max_bytes:
                    raise too_big(label, max_bytes)
                digest.update(chunk)
                out.write(chunk)
            if size == 0:
                raise empty(label)
            out.flush()
            os.fsync(out.fileno())
        # A fresh random name: nothing of the uploaded name can steer where the bytes land.
        name = uuid.uuid4().hex
        os.replace(tmp, folder / name)
        tmp = folder / name  # from here on, the file to remove if the rest fails
        _fsync_dir(folder)
    except BaseException:
        # Also on KeyboardInterrupt, a dropped connection or a full disk: no orphaned file.
        tmp.unlink(missing_ok=True)
        raise
    return StoredFile(
        relpath=f"{campaign_id}/{assignment_id}/{name}", size=size, sha256=digest.hexdigest()
    )


def path_of(relpath: str, root: Path | None = None) -> Path:
    """The file behind a stored relpath; refuses one that leads out of the attachments folder."""
    # Relpaths come from our own database, so this is defence in depth against a corrupted or
    # tampered row, not the primary control. Resolving both sides also catches symlinks.
    base = _root(root).resolve()
    target = (base / relpath).resolve()
    if target == base or not target.is_relative_to(base):
        raise ValueError(f"attachment path escapes the attachments folder: {relpath!r}")
    return target


def remove(relpaths: Iterable[str], root: Path | None = None) -> None:
    """Delete stored files, e.g. to roll back when the database write failed; never raises."""
    # Runs inside an error handler: raising here would hide the original error, and one stuck
    # file must not keep the others from being removed.
    for relpath in relpaths:
        try:
            path_of(relpath, root).unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            _log.warning("could not remove attachment %r: %s", relpath, exc)


def sweep_parts(root: Path | None = None, older_than_s: float = STALE_PART_S) -> tuple[int, int]:
    """Remove the parts of uploads whose process died mid-copy (`kill -9`, a power cut): those
    not written for `older_than_s` (see `STALE_PART_S`). Returns how many and their bytes."""
    base = _root(root)
    cutoff = time.time() - older_than_s
    count = size = 0
    # Parts only ever lie in an assignment's folder, two levels down.
    for part in base.glob(f"*/*/{PART_PREFIX}*{PART_SUFFIX}"):
        try:
            found = part.lstat()
            if not stat.S_ISREG(found.st_mode) or found.st_mtime > cutoff:
                continue
            part.unlink()
        except FileNotFoundError:
            continue  # another process swept it first
        except OSError as exc:
            _log.warning("could not remove upload leftover %s: %s", part, exc)
            continue
        count += 1
        size += found.st_size
    return count, size
