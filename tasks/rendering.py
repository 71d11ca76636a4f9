"""Turning ledger rows into the words a department reads (Chinese by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from config.clock import format_local, local


@dataclass(frozen=True)
class Message:
    title: str
    body: str


@lru_cache(maxsize=8)
def _template(name: str) -> Template:
    # Plain-text messages: autoescape would turn quotes in a department's duties into entities.
    env = Environment(
        loader=PackageLoader("tasks", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(name)


def deliverables(requirements: dict[str, Any]) -> str:
    items = []
    if requirements.get("summary", True):
        items.append("活动总结（电子文档）")
    if requirements.get("paper_copy"):
        items.append("活动总结纸质文档")
    if requirements.get("pictures"):
        items.append("反映活动内容的图片")
    if requirements.get("video"):
        items.append("反映活动内容的视频")
    return "、".join(items) or "活动总结"


def _period(spec: dict[str, Any]) -> str | None:
    period = spec.get("period")
    if not period:
        return None
    start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
    return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


def _coordinator(spec: dict[str, Any]) -> str | None:
    c = spec.get("coordinator")
    if not c:
        return None
    return "，".join(x for x in (c.get("name"), c.get("person"), c.get("phone")) if x)


def render_notice(
    spec: dict[str, Any],
    department: str,
    duties: list[str],
    due_at: datetime,
    link: str,
    now: datetime,
) -> Message:
    """The launch notice: duties, deadline in local time with its weekday, requirements, link."""
    tz = spec["timezone"]
    sent = local(now, tz)
    body = _template("notice.txt.j2").render(
        department=department,
        lead_office=spec.get("lead_office"),
        title=spec["title"],
        document_number=spec.get("document_number"),
        theme=spec.get("theme"),
        period=_period(spec),
        duties=duties,
        common_duties=spec.get("common_duties") or [],
        deadline=format_local(due_at, tz),
        deliverables=deliverables(spec.get("requirements") or {}),
        note=(spec.get("requirements") or {}).get("note"),
        link=link,
        coordinator=_coordinator(spec),
        sent_on=f"{sent.year}年{sent.month}月{sent.day}日",
    )
    return Message(title=f"【任务通知】{spec['title']}（{department}）", body=body)


HEADINGS = {"reminder": "提醒", "urgent": "催办", "overdue": "督办", "escalation": "督办通报"}


def render_reminder(
    spec: dict[str, Any],
    wording: str,
    recipient: str,
    department: str,
    contact: str | None,
    due_at: datetime,
    link: str,
    now: datetime,
    working_days: int,
) -> Message:
    """A rung of the ladder: 提醒, 催办, 督办 or 督办通报, to the department, its head, the
    coordinator or the leadership group. `working_days` is left (>= 0) or overdue (< 0)."""
    tz = spec["timezone"]
    sent = local(now, tz)
    leaders = (spec.get("leaders") or {}).get("name") or "领导小组"
    body = _template("reminder.txt.j2").render(
        recipient=recipient,
        wording=wording,
        department=department,
        title=spec["title"],
        office=spec.get("lead_office") or "我办",
        leaders=leaders,
        deadline=format_local(due_at, tz),
        working_days=abs(working_days),
        overdue=working_days < 0,
        deliverables=deliverables(spec.get("requirements") or {}),
        link=link,
        contact=contact,
        sent_on=f"{sent.year}年{sent.month}月{sent.day}日",
    )
    heading = HEADINGS.get(wording, "提醒")
    if recipient in ("coordinator", "leaders"):
        heading = "逾期抄送" if wording == "overdue" else heading
    return Message(title=f"【{heading}】{spec['title']}（{department}）", body=body)
