"""A stored attachment as an HTTP response, for the department's page and the dashboard: the
file itself, or a picture's thumbnail for a page to show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import HTTPException, Response
from fastapi.responses import FileResponse

from models import queries as q
from models.db import get_engine
from tasks.imaging import readable
from tasks.link import storage
from tasks.link.names import extension
from tasks.link.policy import BROWSER_PICTURES
from tasks.link.thumbnails import thumbnail

# The pictures a browser shows safely in a page, by extension; every other file downloads.
INLINE_TYPES = {ext: f"image/{'jpeg' if ext == 'jpg' else ext}" for ext in BROWSER_PICTURES}


# Shown where a picture has no thumbnail (over the pixel cap, damaged): its link still serves
# the file itself.
NO_PREVIEW = Path(__file__).resolve().parent / "static" / "no-preview.svg"


def has_thumbnail(name: str) -> bool:
    """Whether a page shows the file named `name` as a thumbnail (a picture Pillow reads)."""
    return readable(name)


def attachment_response(
    attachment_id: int, *, assignment_id: int | None = None, campaign_id: int | None = None
) -> Response:
    """A stored file under its sanitised name, of the given unit or campaign (else 404)."""
    found = _attachment(attachment_id, assignment_id, campaign_id)
    path = storage.path_of(found["relpath"])
    if not path.exists():
        raise HTTPException(404)
    inline = INLINE_TYPES.get(extension(found["name"]))
    return FileResponse(
        path,
        media_type=inline or "application/octet-stream",
        filename=found["name"],
        content_disposition_type="inline" if inline else "attachment",
    )


def thumbnail_response(
    attachment_id: int, *, assignment_id: int | None = None, campaign_id: int | None = None
) -> Response:
    """A stored picture's thumbnail, of the given unit or campaign (else 404), made on the
    first request; a placeholder for a picture that has none. Never the original's pixels."""
    found = _attachment(attachment_id, assignment_id, campaign_id)
    made = thumbnail(found["relpath"], found["name"])
    if made is None:
        return FileResponse(NO_PREVIEW, media_type="image/svg+xml")
    return FileResponse(made.path, media_type=made.media_type, content_disposition_type="inline")


def _attachment(
    attachment_id: int, assignment_id: int | None, campaign_id: int | None
) -> dict[str, Any]:
    with get_engine().connect() as conn:
        found = q.attachment_of(
            conn, attachment_id, assignment_id=assignment_id, campaign_id=campaign_id
        )
    if found is None:
        raise HTTPException(404)
    return found
