"""A stored attachment as an HTTP response, for the department's page and the dashboard."""

from __future__ import annotations

from fastapi import HTTPException, Response
from fastapi.responses import FileResponse

from models import queries as q
from models.db import get_engine
from tasks.link import storage
from tasks.link.names import extension
from tasks.link.policy import BROWSER_PICTURES

# The pictures a browser shows safely in a page, by extension; every other file downloads.
INLINE_TYPES = {ext: f"image/{'jpeg' if ext == 'jpg' else ext}" for ext in BROWSER_PICTURES}


def shown_inline(name: str) -> bool:
    return extension(name) in INLINE_TYPES


def attachment_response(
    attachment_id: int, *, assignment_id: int | None = None, campaign_id: int | None = None
) -> Response:
    """A stored file under its sanitised name, of the given unit or campaign (else 404)."""
    with get_engine().connect() as conn:
        found = q.attachment_of(
            conn, attachment_id, assignment_id=assignment_id, campaign_id=campaign_id
        )
    if found is None:
        raise HTTPException(404)
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
