"""The report on the dashboard: the campaign's latest Word document, downloaded (the report
mail points here, so a coordinator never needs a path on the server), and the coordinator's
notes for it (存在的问题, 下一步工作, units commended)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from models import queries as q
from models.db import get_engine
from tasks.report import wording
from tasks.report.delivery import REPORT_PATH
from tasks.report.facts import collect
from tasks.report.notes import NOTE_MAX, notes_of, save_notes
from tasks.status import UnknownCampaign
from web.dashboard.rows import campaign_or_404
from web.deps import SignedIn, check_csrf
from web.pages import templates

router = APIRouter()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get(REPORT_PATH)
def latest_report(slug: str, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        found = campaign_or_404(conn, slug)
        made = q.latest_report(conn, found["id"])
    document = Path(str(made["document"])) if made else None
    if made is None or document is None or not document.is_file():
        raise HTTPException(404, "本活动尚未生成报告")
    return FileResponse(document, media_type=DOCX, filename=str(made["document_name"]))


@router.get("/c/{slug}/report")
def notes_page(request: Request, slug: str, session: SignedIn, saved: int = 0) -> Response:
    try:
        found = notes_of(slug)
    except UnknownCampaign as exc:
        raise HTTPException(404) from exc
    # The figures as a report made now would print them: the same computation, not a count
    # of the dashboard's own.
    figures = wording.figure_rows(collect.fn(slug))
    context = {
        **found,
        "session": session,
        "saved": bool(saved),
        "note_max": NOTE_MAX,
        "figures": figures,
    }
    return templates.TemplateResponse(request, "report_notes.html", context)


@router.post("/c/{slug}/report")
def save_notes_form(
    request: Request,
    slug: str,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    problems: Annotated[str, Form()] = "",
    next_steps: Annotated[str, Form()] = "",
    commended: Annotated[list[str] | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf)
    try:
        save_notes(slug, problems, next_steps, commended or [], session.coordinator.username)
    except UnknownCampaign as exc:
        raise HTTPException(404) from exc
    return RedirectResponse(f"/c/{slug}/report?saved=1", status_code=303)
