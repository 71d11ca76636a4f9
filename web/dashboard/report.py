"""The campaign's latest report, downloaded from the dashboard: the Word document the report
mail carries and points to, so a coordinator never needs a path on the server."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import FileResponse

from models import queries as q
from models.db import get_engine
from tasks.report.delivery import REPORT_PATH
from web.dashboard.rows import campaign_or_404
from web.deps import SignedIn

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
