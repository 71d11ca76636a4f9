"""The coordinator's dashboard: campaigns, units with their status and messages, one unit's
submissions, and the actions on a unit. Every route requires a signed-in coordinator; every
POST also carries the session's CSRF token."""

from __future__ import annotations

import csv
import functools
import io
import math
import secrets
from collections.abc import Iterator
from datetime import date, datetime
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.background import BackgroundTask

from config.channels import redact
from config.clock import ClockError, days_overdue, parse_instant
from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from tasks import review
from web.auth import Session, SignedIn, check_csrf
from web.department import attachment_response
from web.pages import STATUS_LABELS, message_label, short_time, templates

router = APIRouter()
PAGE_SIZE = 50
DONE = {
    "accepted": "已验收该单位的材料。",
    "returned": "已退回修改，并已通知该单位。",
    "extended": "已延期，并已通知该单位；提醒将按新的截止时间安排。",
    "resent": "已重发任务通知。",
    "reassigned": "已重新指派：原链接已失效，新链接已发给新的联系人。",
}


@router.get("/")
def campaigns(request: Request, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        rows = q.campaigns_progress(conn, clock_now())
    return templates.TemplateResponse(
        request, "campaigns.html", {"session": session, "campaigns": rows}
    )


@router.get("/c/{slug}")
def campaign(
    request: Request,
    slug: str,
    session: SignedIn,
    status: str | None = None,
    sort: str = "due",
    order: str = "asc",
    page: int = 1,
) -> Response:
    status, sort, descending = _view(status, sort, order)
    now = clock_now()
    with get_engine().connect() as conn:
        found = _campaign(conn, slug)
        counts = q.status_counts(conn, found["id"], now)
        total = counts["total"] if status is None else counts[status]
        pages = max(math.ceil(total / PAGE_SIZE), 1)
        page = min(max(page, 1), pages)
        rows = q.dashboard_rows(
            conn,
            found["id"],
            now,
            status=status,
            sort=sort,
            descending=descending,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        messages = q.messages_of(conn, [r["assignment_id"] for r in rows])
    tz = found["timezone"]

    @functools.cache
    def overdue_days(due_at: datetime) -> int:
        # A page's units share a few deadlines; the calendar arithmetic is done once for each.
        return days_overdue(due_at, now, tz)

    for r in rows:
        r["shown_status"] = q.display_status(r["status"], r["late"])
        r["days_overdue"] = 0 if r["settled"] else overdue_days(r["due_at"])
        sent = [_Fields(**m) for m in messages[r["assignment_id"]]]
        r["messages"] = [m for m in sent if m["kind"] != "notice"]
        r["notice"] = [m for m in sent if m["kind"] == "notice"]
    shown = [_Fields(**r) for r in rows]

    def link(**change: Any) -> str:
        params = {"status": status, "sort": sort, "order": "desc" if descending else "asc"}
        params.update(change)
        return f"/c/{slug}?" + urlencode({k: v for k, v in params.items() if v})

    return templates.TemplateResponse(
        request,
        "campaign.html",
        {
            "session": session,
            "campaign": found,
            "spec": found["spec"],
            "counts": counts,
            "rows": shown,
            "status": status,
            "sort": sort,
            "descending": descending,
            "page": page,
            "pages": pages,
            "total": total,
            "link": link,
            "now": now,
            "export": f"/c/{slug}/export.csv?" + urlencode({"status": status or ""}),
        },
    )


@router.get("/c/{slug}/export.csv")
def export_csv(
    slug: str,
    session: SignedIn,
    status: str | None = None,
    sort: str = "due",
    order: str = "asc",
) -> Response:
    status, sort, descending = _view(status, sort, order)
    now = clock_now()
    with get_engine().connect() as conn:
        found = _campaign(conn, slug)
    filename = f"{slug}-{status or 'all'}.csv"
    return StreamingResponse(
        _csv_rows(found, status, sort, descending, now),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_rows(
    found: dict[str, Any], status: str | None, sort: str, descending: bool, now: datetime
) -> Iterator[str]:
    """The whole list, read a thousand units at a time; a BOM so that Excel reads UTF-8."""
    tz, spec = found["timezone"], found["spec"]
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(
        [
            "单位代码",
            "单位名称",
            "状态",
            "截止时间",
            "逾期天数",
            "签收时间",
            "提交时间",
            "联系人",
            "电话",
            "已送达提醒",
            "最近一次提醒",
        ]
    )
    offset = 0
    while True:
        with get_engine().connect() as conn:
            rows = q.dashboard_rows(
                conn,
                found["id"],
                now,
                status=status,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=1000,
            )
            messages = q.messages_of(conn, [r["assignment_id"] for r in rows])
        for r in rows:
            sent = [
                m
                for m in messages[r["assignment_id"]]
                if m["state"] == "sent" and m["kind"] != "notice"
            ]
            last = sent[-1] if sent else None
            writer.writerow(
                [
                    r["code"],
                    r["name"],
                    STATUS_LABELS[q.display_status(r["status"], r["late"])],
                    short_time(r["due_at"], tz),
                    0 if r["settled"] else days_overdue(r["due_at"], now, tz),
                    short_time(r["acknowledged_at"], tz),
                    short_time(r["submitted_at"], tz),
                    r["person"] or "",
                    r["phone"] or "",
                    len(sent),
                    f"{message_label(last['kind'], last['recipient'], spec)} "
                    f"{short_time(last['sent_at'], tz)}"
                    if last
                    else "",
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < 1000:
            return
        offset += 1000


@router.get("/c/{slug}/u/{code}")
def unit_page(
    request: Request,
    slug: str,
    code: str,
    session: SignedIn,
    done: str | None = None,
) -> Response:
    return _unit_page(request, session, slug, code, notice=DONE.get(done or ""))


@router.get("/c/{slug}/files/{attachment_id}")
def coordinator_file(slug: str, attachment_id: int, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        found = _campaign(conn, slug)
    return attachment_response(attachment_id, campaign_id=found["id"])


@router.post("/c/{slug}/u/{code}/{action}")
def unit_action(
    request: Request,
    slug: str,
    code: str,
    action: str,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    version: Annotated[int, Form()] = 0,
    comment: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form()] = "",
    notify: Annotated[str, Form()] = "",
    person: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    unit = review.find_unit(slug, code)
    if unit is None:
        raise HTTPException(404)
    now = clock_now()
    by = session.coordinator.username
    try:
        if action == "accept":
            review.accept(unit, version, by, now)
            ids: list[int] = []
        elif action == "return":
            ids = review.return_for_revision(unit, version, comment, by, now)
        elif action == "extend":
            ids = review.extend(unit, _new_due(due, unit["timezone"]), now)
        elif action == "resend":
            ids = review.resend_notice(unit, form_key, now)
        elif action == "reassign":
            ids = review.reassign(unit, notify, person, phone, now)
        else:
            raise HTTPException(404)
    except review.ActionRefused as exc:
        return _unit_page(request, session, slug, code, error=str(exc), status=409)
    done = {
        "accept": "accepted",
        "return": "returned",
        "extend": "extended",
        "resend": "resent",
        "reassign": "reassigned",
    }[action]
    return RedirectResponse(
        f"/c/{slug}/u/{code}?done={done}",
        status_code=303,
        # Sent after the answer: the coordinator does not wait on a mail relay.
        background=BackgroundTask(review.send_now, ids),
    )


def _new_due(text: str, timezone: str) -> date | datetime:
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return parse_instant(text, timezone)
    except (ValueError, ClockError) as exc:
        raise review.ActionRefused("请填写新的截止日期（如 2021-10-15）。") from exc


def _unit_page(
    request: Request,
    session: Session,
    slug: str,
    code: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    now = clock_now()
    with get_engine().connect() as conn:
        found = _campaign(conn, slug)
        unit = q.unit_by_code(conn, found["id"], code)
        if unit is None:
            raise HTTPException(404)
        versions = q.submissions_of(conn, unit["assignment_id"])
        messages = q.messages_of(conn, [unit["assignment_id"]])[unit["assignment_id"]]
    tz = found["timezone"]
    for m in messages:
        m["channel_shown"] = redact(m["channel"])
    return templates.TemplateResponse(
        request,
        "unit.html",
        {
            "session": session,
            "campaign": found,
            "spec": found["spec"],
            "unit": unit,
            "shown_status": q.display_status(unit["status"], unit["late"]),
            "days": 0
            if unit["status"] in ("submitted", "accepted")
            else days_overdue(unit["due_at"], now, tz),
            "versions": versions,
            "messages": messages,
            "channels": [redact(c) for c in unit["notify"]],
            "notice": notice,
            "error": error,
            "form_key": secrets.token_urlsafe(16),
            "now": now,
        },
        status_code=status,
    )


class _Fields(SimpleNamespace):
    """A row that the template reads as `r.code`, straight from its attributes. Jinja tries an
    attribute before an item, and on a plain dict each of the page's 2,000 lookups raised and
    caught an AttributeError first: a fifth of the page's time."""

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]


def _campaign(conn: Any, slug: str) -> dict[str, Any]:
    found = q.campaign_by_slug(conn, slug)
    if found is None:
        raise HTTPException(404)
    return found


def _view(status: str | None, sort: str, order: str) -> tuple[str | None, str, bool]:
    """The list's filter and order from the query string; anything unknown is the default."""
    status = status if status in q.DASHBOARD_FILTERS else None
    sort = sort if sort in q.DASHBOARD_SORTS else "due"
    return status, sort, order == "desc"
