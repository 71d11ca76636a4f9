"""Templates and the words and numbers pages show: labels in Chinese, times in the campaign's
timezone. Autoescaping is on for every page: departments' text is data, never markup."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from config.clock import days_overdue, format_remaining, to_utc
from models.queries.delivery import without_mark
from tasks.messages.labels import STATUS_LABELS, message_label
from tasks.messages.render import format_deadline
from web.files import has_thumbnail

HERE = Path(__file__).resolve().parent

DELIVERY_LABELS = {
    "pending": "待发送",
    "sending": "发送中（未确认）",
    "sent": "已送达",
    "failed": "发送失败",
    "withdrawn": "已撤回",
    "misconfigured": "渠道配置有误，不再重试",
}
# The mark a message's label carries on the dashboard's list.
DELIVERY_MARKS = {
    "pending": "…",
    "sending": "…",
    "sent": "✓",
    "failed": "✗",
    "withdrawn": "",
    "misconfigured": "✗",
}


def failure_reason(last_error: str | None, labelled: bool = True) -> str:
    """A message's failure as the channel gave it (its own code and message, as they came),
    the ledger's mark of a misconfigured channel said in words, or left out where the page
    shows the message's state beside it (`labelled=False`)."""
    if not last_error:
        return "原因未记录"
    reason = without_mark(last_error) or ""
    if labelled and reason != last_error:
        return f"{DELIVERY_LABELS['misconfigured']}：{reason}"
    return reason


def wall_clock(moment: datetime, timezone: str) -> datetime:
    # The stdlib's conversion, not `config.clock.local`: a dashboard page shows some 400
    # times, and Pendulum's conversion (about 35 us each) cost more than the page's queries.
    return to_utc(moment).astimezone(ZoneInfo(timezone))


def short_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    t = wall_clock(moment, timezone)
    return f"{t.year}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def brief_time(moment: datetime | None, timezone: str) -> str:
    """`9月27日`: enough to read a unit's reminders at a glance."""
    if moment is None:
        return ""
    t = wall_clock(moment, timezone)
    return f"{t.month}月{t.day}日"


def file_size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return f"{size:.1f} GB"


@lru_cache(maxsize=256)
def _deadline(due_at: datetime, timezone: str) -> str:
    # A campaign's deadline heads each of its pages: worded once (with Pendulum), not per page.
    return format_deadline(due_at, timezone)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code: compiled once per process, never checked on disk
        # again (the check cost a stat() of every template a page uses, on every request).
        auto_reload=False,
    )
    env.globals.update(
        STATUS_LABELS=STATUS_LABELS,
        DELIVERY_LABELS=DELIVERY_LABELS,
        DELIVERY_MARKS=DELIVERY_MARKS,
        message_label=message_label,
        days_overdue=days_overdue,
        has_thumbnail=has_thumbnail,
    )
    env.filters.update(
        short_time=short_time,
        brief_time=brief_time,
        deadline=_deadline,
        remaining=format_remaining,
        file_size=file_size,
        failure_reason=failure_reason,
    )
    return env


templates = Jinja2Templates(env=_environment())
