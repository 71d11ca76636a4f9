"""Small copies of stored pictures for the dashboard's pages: made on first request, kept
beside the attachments, and shown instead of the originals.

A page that shows an original inline makes the browser decode all of it (a scan of 50 million
pixels, or ten phone photos on one unit's page). The copy of `<attachments>/<relpath>` is
`<thumbnails>/<relpath>`: a stored file is never modified, so a copy once made stays right.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from config.private_files import private_folder
from config.settings import get_settings
from tasks.imaging import PictureTooLarge, readable, shrink
from tasks.link import storage

THUMBNAIL_SIDE = 480  # px on the long side: sharp at the page's width on a high-density screen
# What `tasks.imaging.shrink` returns: a re-encoded JPEG or PNG, or a small original as it is.
_MEDIA_TYPES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
)

_log = logging.getLogger("duban.attachments")


@dataclass(frozen=True)
class Thumbnail:
    path: Path
    media_type: str


def thumbnail(relpath: str, name: str) -> Thumbnail | None:
    """The thumbnail of the stored file `relpath` (uploaded as `name`), made now if there is
    none yet. None for a file that has none: not a picture that Pillow reads, over the pixel
    cap, damaged or missing (the log says which)."""
    if not readable(name):
        return None
    target = storage.path_of(relpath, get_settings().thumbnails_dir)
    found = _cached(target)
    if found is not None:
        return found
    try:
        data = shrink(storage.path_of(relpath), name, THUMBNAIL_SIDE)
    except PictureTooLarge as exc:
        _log.warning("no thumbnail of %r (%s): %s", name, relpath, exc)
        return None
    except Exception as exc:  # Pillow raises many kinds for a damaged picture
        _log.warning("no thumbnail of %r (%s), unreadable: %r", name, relpath, exc)
        return None
    _save(target, data)
    return _cached(target)


def _cached(path: Path) -> Thumbnail | None:
    """The thumbnail at `path`, if one is there whole: a copy cut short (the cache is not
    synced to disk, a power cut may leave one) has no known start and is made again."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        return None
    for signature, media_type in _MEDIA_TYPES:
        if head.startswith(signature):
            return Thumbnail(path, media_type)
    return None


def _save(target: Path, data: bytes) -> None:
    """Write `data` to `target` whole or not at all, private to the service account as the
    originals are (folders 0o700, the file 0o600 from mkstemp). Two requests making the same
    thumbnail at once each write a whole copy; the later rename wins."""
    private_folder(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".thumb-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
