"""What the dashboard's pages say of a campaign's units, worded in Python so that the
templates only place it: the list's filter and order, days overdue, and each row with its
message cell. HTML stays in the templates (`campaign.html`, `unit.html`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Any, NamedTuple
from urllib.parse import quote

from fastapi import HTTPException
from sqlalchemy import Connection

from config.clock import days_overdue
from models import queries as q
from models.tables import SETTLED_STATUSES
from tasks.messages.labels import message_label
from web.pages import DELIVERY_LABELS, DELIVERY_MARKS, brief_time, failure_reason, short_time

PAGE_SIZE = 50


class View(NamedTuple):
    """The list's filter and order, as its query string gives them."""

    status: str | None
    sort: str
    descending: bool

    @classmethod
    def of(cls, status: str | None, sort: str, order: str) -> View:
        """Anything unknown is the default."""
        status = status if status in q.DASHBOARD_FILTERS else None
        sort = sort if sort in q.DASHBOARD_SORTS else "due"
        return cls(status, sort, order == "desc")

    def rows(
        self, conn: Connection, campaign_id: int, now: datetime, offset: int, limit: int
    ) -> list[dict[str, Any]]:
        return q.dashboard_rows(
            conn,
            campaign_id,
            now,
            status=self.status,
            sort=self.sort,
            descending=self.descending,
            offset=offset,
            limit=limit,
        )

    def query(self, **change: Any) -> str:
        """The query string of this view, changed. Every value is one of the known words or a
        page number: nothing in them needs quoting, and `urlencode` cost more than the rest
        of the page's links."""
        params = {
            "status": self.status,
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
        }
        params.update(change)
        return "?" + "&".join(f"{k}={v}" for k, v in params.items() if v)


def campaign_or_404(conn: Connection, slug: str) -> dict[str, Any]:
    found = q.campaign_by_slug(conn, slug)
    if found is None:
        raise HTTPException(404)
    return found


class OverdueDays:
    """Days overdue as the dashboard shows them: 0 once a unit has delivered (submitted or
    accepted), else the calendar days `config.clock` counts. Remembered per deadline: a
    list's units share a few."""

    def __init__(self, now: datetime, timezone: str) -> None:
        self.now, self.timezone = now, timezone
        self.known: dict[tuple[datetime, bool], int] = {}

    def __call__(self, status: str, due_at: datetime) -> int:
        key = (due_at, status in SETTLED_STATUSES)
        if key not in self.known:
            self.known[key] = 0 if key[1] else days_overdue(due_at, self.now, self.timezone)
        return self.known[key]


class Chip(NamedTuple):
    """One mark in the list's message cell: a span, or a link when `href` is set."""

    css: str
    title: str
    text: str
    href: str = ""


class Listed(SimpleNamespace):
    """A row that the template reads as `r.code`, straight from its attributes. Jinja tries an
    attribute before an item, and on a plain dict each of the page's 2,000 lookups raised and
    caught an AttributeError first: a fifth of the page's time."""

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]


def unit_url(slug: str, code: str) -> str:
    return f"/c/{slug}/u/{quote(code)}"


def listed(
    rows: list[dict[str, Any]],
    ledgers: dict[int, dict[str, Any]],
    found: dict[str, Any],
    now: datetime,
) -> list[Listed]:
    """The page's rows with everything they show already worded."""
    tz, spec, slug = found["timezone"], found["spec"], found["slug"]
    labels: dict[tuple[str, str], str] = {}  # a page's messages are of a few kinds
    due_times: dict[datetime, str] = {}  # and its units share a few deadlines
    overdue = OverdueDays(now, tz)

    def label(kind: str, recipient: str) -> str:
        if (kind, recipient) not in labels:
            labels[kind, recipient] = message_label(kind, recipient, spec)
        return labels[kind, recipient]

    shown = []
    for r in rows:
        due_at = r["due_at"]
        if due_at not in due_times:
            due_times[due_at] = short_time(due_at, tz)
        url = unit_url(slug, r["code"])
        shown.append(
            Listed(
                code=r["code"],
                name=r["name"],
                url=url,
                in_file=r["in_file"],
                shown_status=q.display_status(r["status"], r["late"]),
                days_overdue=overdue(r["status"], due_at),
                due=due_times[due_at],
                acknowledged=short_time(r["acknowledged_at"], tz) or "—",
                submitted=short_time(r["submitted_at"], tz) or "—",
                messages=message_chips(ledgers.get(r["assignment_id"]), url, label, tz),
            )
        )
    return shown


def message_chips(
    ledger: dict[str, Any] | None, url: str, label: Callable[[str, str], str], tz: str
) -> list[Chip]:
    """What the list shows of a unit's messages (see `models.queries.message_summaries`):
    its notice, its latest message, how many there are (a link to the unit's page, which
    lists them all), and how many failed or still wait."""
    if ledger is None:
        return []
    chips = []
    notice = ledger["notice_state"]
    if notice:
        title = f"任务通知：{DELIVERY_LABELS[notice]}"
        if notice == "failed":
            title = f"任务通知：{failure_reason(ledger['notice_error'])}"
        chips.append(Chip(f"d-{notice}", title, f"通知{DELIVERY_MARKS[notice]}"))
    total, failed, unsent = ledger["total"], ledger["failed"], ledger["unsent"]
    if total:
        state = ledger["state"]
        latest = label(ledger["kind"], ledger["recipient"])
        chips.append(
            Chip(
                f"d-{state}",
                f"最近一条：{DELIVERY_LABELS[state]}",
                f"{latest} {brief_time(ledger['at'], tz)}{DELIVERY_MARKS[state]}",
            )
        )
        title = f"提醒、督办等消息共{total}条，已送达{ledger['sent']}条"
        title += f"，发送失败{failed}条" if failed else ""
        title += f"，待发送{unsent}条" if unsent else ""
        chips.append(Chip("count", f"{title}。点击查看全部。", f"共{total}条", f"{url}#messages"))
    if failed:
        why = (
            f"最近一次失败：{label(ledger['failed_kind'], ledger['failed_recipient'])} "
            f"{short_time(ledger['failed_at'], tz)}，{failure_reason(ledger['last_error'])}"
        )
        chips.append(Chip("d-failed", why, f"失败{failed}条"))
    if unsent:
        chips.append(Chip("d-pending", "待发送，或已发出尚未确认", f"待发{unsent}条"))
    return chips
