"""The dashboard's first page: every campaign with its progress."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from web.deps import SignedIn
from web.pages import templates

router = APIRouter()


@router.get("/")
def campaigns(request: Request, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        rows = q.campaigns_progress(conn, clock_now())
    return templates.TemplateResponse(
        request, "campaigns.html", {"session": session, "campaigns": rows}
    )
