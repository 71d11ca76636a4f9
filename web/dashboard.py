"""The coordinator's dashboard: campaigns, units with their status and messages, one unit's
submissions, and the actions on a unit. Every route requires a signed-in coordinator; every
POST also carries the session's CSRF token."""

from __future__ import annotations

import csv
import io
import math
import secrets
from collections.abc import Callable, Iterator
from datetime import date, datetime
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from markupsafe import Markup, escape
from sqlalchemy import Connection
from starlette.background import BackgroundTask

from config.campaign.channels import redact
from config.clock import ClockError, days_overdue, parse_instant
from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from models.tables import SETTLED_STATUSES
from tasks import review
from web.auth import Session, SignedIn, check_csrf, signed_in
from web.department import attachment_response
from web.pages import (
    DELIVERY_LABELS,
    DELIVERY_MARKS,
    STATUS_LABELS,
    brief_time,
    message_label,
    short_time,
    templates,
)

router = APIRouter()
PAGE_SIZE = 50
# Each action on a unit: the word its redirect carries (`?done=`), and what the page then says.
DONE = {
    "accept": ("accepted", "已验收该单位的材料。"),
    "return": ("returned", "已退回修改，并已通知该单位。"),
    "extend": ("extended", "已延期，并已通知该单位；提醒将按新的截止时间安排。"),
    "resend": ("resent", "已重发任务通知。"),
    "reassign": ("reassigned", "已重新指派：原链接已失效，新链接已发给新的联系人。"),
}
DONE_NOTICES = dict(DONE.values())


@router.get("/")
def campaigns(request: Request, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        rows = q.campaigns_progress(conn, clock_now())
    return templates.TemplateResponse(
        request, "campaigns.html", {"session": session, "campaigns": rows}
    )


async def _signed_in_inline(request: Request) -> Session:
    """`signed_in`, run on the event loop: see `campaign`."""
    return signed_in(request)


@router.get("/c/{slug}")
async def campaign(
    request: Request,
    slug: str,
    session: Annotated[Session, Depends(_signed_in_inline)],
    status: str | None = None,
    sort: str = "due",
    order: str = "asc",
    page: int = 1,
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
        ledgers = q.message_summaries(conn, [r["assignment_id"] for r in rows])

    def link(**change: Any) -> str:
        # Every value is one of the known words or a page number (see `_view`): nothing in
        # them needs quoting, and `urlencode` cost more than the rest of the page's links.
        params = {"status": status, "sort": sort, "order": "desc" if descending else "asc"}
        params.update(change)
        return "?" + "&".join(f"{k}={v}" for k, v in params.items() if v)

    return templates.TemplateResponse(
        request,
        "campaign.html",
        {
            "session": session,
            "campaign": found,
            "spec": found["spec"],
            "counts": counts,
            "rows": _listed(rows, ledgers, found, now),
            "status": status,
            "sort": sort,
            "descending": descending,
            "page": page,
            "pages": pages,
            "total": total,
            "link": lambda **change: f"/c/{slug}" + link(**change),
            # The file lists what the page lists, in the page's order.
            "export": f"/c/{slug}/export.csv" + link(page=None),
        },
    )


def _listed(
    rows: list[dict[str, Any]],
    ledgers: dict[int, dict[str, Any]],
    found: dict[str, Any],
    now: datetime,
) -> list[_Fields]:
    """The page's rows with everything they show already worded, so that the template only
    places it."""
    tz, spec, slug = found["timezone"], found["spec"], found["slug"]
    labels: dict[tuple[str, str], str] = {}  # a page's messages are of a few kinds
    days: dict[tuple[datetime, bool], int] = {}  # and its units share a few deadlines
    due_times: dict[datetime, str] = {}

    def label(kind: str, recipient: str) -> str:
        if (kind, recipient) not in labels:
            labels[kind, recipient] = message_label(kind, recipient, spec)
        return labels[kind, recipient]

    shown = []
    for r in rows:
        due_at = r["due_at"]
        settled = r["status"] in SETTLED_STATUSES
        if (due_at, settled) not in days:
            days[due_at, settled] = 0 if settled else days_overdue(due_at, now, tz)
        if due_at not in due_times:
            due_times[due_at] = short_time(due_at, tz)
        url = escape(f"/c/{slug}/u/{quote(r['code'])}")
        shown.append(
            _Fields(
                code=r["code"],
                name=r["name"],
                url=url,
                in_file=r["in_file"],
                shown_status=q.display_status(r["status"], r["late"]),
                days_overdue=days[due_at, settled],
                due=due_times[due_at],
                acknowledged=short_time(r["acknowledged_at"], tz) or "—",
                submitted=short_time(r["submitted_at"], tz) or "—",
                messages=_ledger_cell(ledgers.get(r["assignment_id"]), url, label, tz),
            )
        )
    return shown


def _ledger_cell(
    ledger: dict[str, Any] | None, url: Markup, label: Callable[[str, str], str], tz: str
) -> Markup:
    """What the list shows of a unit's messages (see `models.queries.message_summaries`):
    its notice, its latest message, how many there are (a link to the unit's page, which
    lists them all), and how many failed or still wait. Built here rather than in the
    template: a page has 50 of them, and Jinja's escaping of each piece cost more than the
    rest of the page. Every value that is not one of the fixed words is escaped."""
    if ledger is None:
        return Markup("")
    chips = []
    notice = ledger["notice_state"]
    if notice:
        chips.append(
            f'<span class="msg d-{notice}" title="任务通知：{DELIVERY_LABELS[notice]}">'
            f"通知{DELIVERY_MARKS[notice]}</span>"
        )
    total, failed, unsent = ledger["total"], ledger["failed"], ledger["unsent"]
    if total:
        state = ledger["state"]
        latest = escape(label(ledger["kind"], ledger["recipient"]))
        chips.append(
            f'<span class="msg d-{state}" title="最近一条：{DELIVERY_LABELS[state]}">'
            f"{latest} {brief_time(ledger['at'], tz)}{DELIVERY_MARKS[state]}</span>"
        )
        title = f"提醒、督办等消息共{total}条，已送达{ledger['sent']}条"
        title += f"，发送失败{failed}条" if failed else ""
        title += f"，待发送{unsent}条" if unsent else ""
        chips.append(
            f'<a class="msg count" href="{url}#messages" title="{title}。点击查看全部。">'
            f"共{total}条</a>"
        )
    if failed:
        why = escape(
            f"最近一次失败：{label(ledger['failed_kind'], ledger['failed_recipient'])} "
            f"{short_time(ledger['failed_at'], tz)}，{ledger['last_error'] or '原因未记录'}"
        )
        chips.append(f'<span class="msg d-failed" title="{why}">失败{failed}条</span>')
    if unsent:
        chips.append(
            f'<span class="msg d-pending" title="待发送，或已发出尚未确认">待发{unsent}条</span>'
        )
    return Markup("".join(chips))


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
            rows = _units(conn, found, now, status, sort, descending, offset, 1000)
        for r in rows:
            sent = [m for m in r["messages"] if m["state"] == "sent" and m["kind"] != "notice"]
            last = sent[-1] if sent else None
            writer.writerow(
                [
                    r["code"],
                    r["name"],
                    STATUS_LABELS[r["shown_status"]],
                    short_time(r["due_at"], tz),
                    r["days_overdue"],
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
    unit = review.find_unit(slug, code)
    if unit is None:
        raise HTTPException(404)
    return _unit_page(request, session, unit, notice=DONE_NOTICES.get(done or ""))


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
    if unit is None or action not in DONE:
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
        else:
            ids = review.reassign(unit, notify, person, phone, now)
    except review.ActionRefused as exc:
        return _unit_page(request, session, unit, error=str(exc), status=409)
    return RedirectResponse(
        f"/c/{slug}/u/{code}?done={DONE[action][0]}",
        status_code=303,
        # Sent after the answer: the coordinator does not wait on a mail relay.
        background=BackgroundTask(review.send_now, ids, now),
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
    unit: dict[str, Any],
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """One unit, from its row (`review.find_unit`), which carries its campaign's facts too."""
    with get_engine().connect() as conn:
        versions = q.submissions_of(conn, unit["assignment_id"])
        messages = q.messages_of(conn, [unit["assignment_id"]])[unit["assignment_id"]]
    for m in messages:
        m["channel_shown"] = redact(m["channel"])
    campaign = {k: unit[k] for k in ("slug", "title", "timezone")}
    return templates.TemplateResponse(
        request,
        "unit.html",
        {
            "session": session,
            "campaign": campaign,
            "spec": unit["spec"],
            "unit": unit,
            "shown_status": q.display_status(unit["status"], unit["late"]),
            "days": _overdue_days(unit, clock_now(), unit["timezone"]),
            "versions": versions,
            "messages": messages,
            "channels": [redact(c) for c in unit["notify"]],
            "notice": notice,
            "error": error,
            "form_key": secrets.token_urlsafe(16),
        },
        status_code=status,
    )


def _units(
    conn: Connection,
    found: dict[str, Any],
    now: datetime,
    status: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """A slice of the campaign's list as the CSV lists it: each unit with its shown status,
    its days overdue and its messages."""
    rows = q.dashboard_rows(
        conn,
        found["id"],
        now,
        status=status,
        sort=sort,
        descending=descending,
        offset=offset,
        limit=limit,
    )
    messages = q.messages_of(conn, [r["assignment_id"] for r in rows])
    tz = found["timezone"]
    days: dict[tuple[datetime, bool], int] = {}  # a list's units share a few deadlines
    for r in rows:
        r["shown_status"] = q.display_status(r["status"], r["late"])
        key = (r["due_at"], r["status"] in SETTLED_STATUSES)
        if key not in days:
            days[key] = _overdue_days(r, now, tz)
        r["days_overdue"] = days[key]
        r["messages"] = messages[r["assignment_id"]]
    return rows


def _overdue_days(unit: dict[str, Any], now: datetime, timezone: str) -> int:
    """Days overdue of a unit that still owes its summary; 0 once it has delivered."""
    if unit["status"] in SETTLED_STATUSES:
        return 0
    return days_overdue(unit["due_at"], now, timezone)


class _Fields(SimpleNamespace):
    """A row that the template reads as `r.code`, straight from its attributes. Jinja tries an
    attribute before an item, and on a plain dict each of the page's 2,000 lookups raised and
    caught an AttributeError first: a fifth of the page's time."""

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]


def _campaign(conn: Connection, slug: str) -> dict[str, Any]:
    found = q.campaign_by_slug(conn, slug)
    if found is None:
        raise HTTPException(404)
    return found


def _view(status: str | None, sort: str, order: str) -> tuple[str | None, str, bool]:
    """The list's filter and order from the query string; anything unknown is the default."""
    status = status if status in q.DASHBOARD_FILTERS else None
    sort = sort if sort in q.DASHBOARD_SORTS else "due"
    return status, sort, order == "desc"
