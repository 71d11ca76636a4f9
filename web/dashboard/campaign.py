"""A campaign's page: its units filtered, sorted and paged, each with its message cell."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response

from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from tasks.report.delivery import REPORT_PATH
from web.dashboard.rows import PAGE_SIZE, View, campaign_or_404, listed
from web.deps import PageNumber, Session, SignedInInline
from web.pages import templates

router = APIRouter()


@router.get("/c/{slug}")
async def campaign(
    request: Request,
    slug: str,
    session: SignedInInline,
    status: str | None = None,
    sort: str = "due",
    order: str = "asc",
    page: PageNumber = 1,
) -> Response:
    """A campaign's list. The page is built on the event loop, not in the thread pool: it
    is a few milliseconds of CPU and of reads that never wait on a lock (SQLite's WAL
    readers, PostgreSQL's snapshots), and under load the two hops to a thread (the sign-in
    check, then the page) and the threads' contention for the GIL cost more than the page."""
    return campaign_page(request, slug, session, status, sort, order, page)


def campaign_page(
    request: Request,
    slug: str,
    session: Session,
    status: str | None = None,
    sort: str = "due",
    order: str = "asc",
    page: int = 1,
) -> Response:
    view = View.of(status, sort, order)
    now = clock_now()
    with get_engine().connect() as conn:
        found = campaign_or_404(conn, slug)
        counts = q.status_counts(conn, found["id"], now)
        total = counts["total"] if view.status is None else counts[view.status]
        pages = max(math.ceil(total / PAGE_SIZE), 1)
        page = min(max(page, 1), pages)
        rows = view.rows(conn, found["id"], now, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        ledgers = q.message_summaries(conn, [r["assignment_id"] for r in rows])
        made = q.latest_report(conn, found["id"])
    return templates.TemplateResponse(
        request,
        "campaign.html",
        {
            "session": session,
            "campaign": found,
            "spec": found["spec"],
            "counts": counts,
            "rows": listed(rows, ledgers, found, now),
            "status": view.status,
            "sort": view.sort,
            "descending": view.descending,
            "page": page,
            "pages": pages,
            "total": total,
            "link": lambda **change: f"/c/{slug}" + view.query(**change),
            # The file lists what the page lists, in the page's order.
            "export": f"/c/{slug}/export.csv" + view.query(page=None),
            "report": REPORT_PATH.format(slug=slug) if made else None,
        },
    )
