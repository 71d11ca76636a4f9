"""Turning ledger rows into the words a department reads (Chinese by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from config.campaign.schema import CampaignSettings, Requirements
from config.clock import format_local, local
from config.ladder import rung_name
from models.tables import EXTENDED, NOTICE, REASSIGNED, RESENT, RETURNED


@dataclass(frozen=True)
class Message:
    title: str
    body: str


@lru_cache(maxsize=8)
def text_template(name: str) -> Template:
    # Plain-text messages: autoescape would turn quotes in a department's duties into entities.
    env = Environment(
        loader=PackageLoader("tasks", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(name)


def deliverables(requirements: Requirements) -> str:
    """`活动总结（纸质版、电子版各一份）及反映活动内容的图片、视频`, from the requirements."""
    summary = "活动总结（纸质版、电子版各一份）" if requirements.paper_copy else "活动总结"
    asked = (("图片", requirements.pictures), ("视频", requirements.video))
    media = [m for m, given in asked if given]
    return summary + (f"及反映活动内容的{'、'.join(media)}" if media else "")


def format_deadline(due_at: datetime, timezone: str) -> str:
    """`2021年9月30日（星期四）` for a deadline at the end of a day, else with its time."""
    text = format_local(due_at, timezone)
    return text.removesuffix("23:59") if text.endswith("）23:59") else text


def period_text(spec: CampaignSettings) -> str | None:
    if not spec.period:
        return None
    start, end = spec.period.start, spec.period.end
    return f"{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日"


def _month_day(moment: datetime, tz: str) -> str:
    t = local(moment, tz)
    return f"{t.month}月{t.day}日"


def _coordinator(spec: CampaignSettings) -> str | None:
    c = spec.coordinator
    if not c:
        return None
    return "，".join(x for x in (c.name, c.person, c.phone) if x)


def render_notice(
    spec: CampaignSettings,
    department: str,
    duties: list[str],
    due_at: datetime,
    link: str,
    now: datetime,
) -> Message:
    """The launch notice: duties, deadline in local time with its weekday, requirements, link."""
    tz = spec.timezone
    sent = local(now, tz)
    body = text_template("notice.txt.j2").render(
        department=department,
        lead_office=spec.lead_office,
        title=spec.title,
        document_number=spec.document_number,
        theme=spec.theme,
        period=period_text(spec),
        duties=duties,
        common_duties=spec.common_duties,
        deadline=format_deadline(due_at, tz),
        deliverables=deliverables(spec.requirements),
        note=spec.requirements.note,
        link=link,
        coordinator=_coordinator(spec),
        sent_on=f"{sent.year}年{sent.month}月{sent.day}日",
    )
    return Message(title=f"【任务通知】{spec.title}（{department}）", body=body)


def render_action(
    spec: CampaignSettings,
    action: str,
    department: str,
    due_at: datetime,
    link: str,
    now: datetime,
    note: str | None,
) -> Message:
    """A message on a coordinator's action: a summary returned for revision with the
    comment, or a new deadline for the unit."""
    tz = spec.timezone
    sent = local(now, tz)
    body = text_template("action.txt.j2").render(
        action=action,
        department=department,
        title=spec.title,
        note=note or "",
        deadline=format_deadline(due_at, tz),
        deliverables=deliverables(spec.requirements),
        link=link,
        coordinator=_coordinator(spec),
        office=spec.lead_office or "我办",
        sent_on=f"{sent.year}年{sent.month}月{sent.day}日",
    )
    heading = "退回修改" if action == "returned" else "延期通知"
    return Message(title=f"【{heading}】{spec.title}（{department}）", body=body)


HEADINGS = {"reminder": "提醒", "urgent": "催办", "overdue": "督办", "escalation": "督办"}


def render_reminder(
    spec: CampaignSettings,
    wording: str,
    recipient: str,
    department: str,
    contact: str | None,
    due_at: datetime,
    link: str,
    now: datetime,
    working_days_left: int,
    days_overdue: int,
    acknowledged_at: datetime | None = None,
) -> Message:
    """A rung of the ladder: 提醒, 催办, 督办 or 督办函 to the department or its head, a copy of
    the overdue notice to the coordinator, a 情况报告 to the leadership group."""
    tz = spec.timezone
    sent = local(now, tz)
    leaders = spec.leaders.name if spec.leaders else "领导小组"
    body = text_template("reminder.txt.j2").render(
        recipient=recipient,
        wording=wording,
        department=department,
        title=spec.title,
        office=spec.lead_office or "我办",
        leaders=leaders,
        deadline=format_deadline(due_at, tz),
        working_days_left=working_days_left,
        days_overdue=days_overdue,
        acknowledged=_month_day(acknowledged_at, tz) if acknowledged_at else None,
        deliverables=deliverables(spec.requirements),
        link=link,
        contact=contact,
        coordinator=_coordinator(spec),
        sent_on=f"{sent.year}年{sent.month}月{sent.day}日",
    )
    return Message(
        title=f"【{rung_heading(wording, recipient)}】{spec.title}（{department}）", body=body
    )


def wording_of(spec: CampaignSettings, kind: str) -> str:
    """The wording of the rung a ledger key names (`reminder` if the ladder lost it)."""
    name = rung_name(kind)
    return next((r.wording for r in spec.escalation if r.name == name), "reminder")


def rung_heading(wording: str, recipient: str) -> str:
    """The heading of a rung's message, as its title shows it and every page names it."""
    if recipient == "leaders":
        return "情况报告"
    if recipient == "coordinator":
        return "逾期未报"
    if recipient == "head" and wording == "escalation":
        return "督办函"
    return HEADINGS.get(wording, "提醒")


WHO = {"leaders": "（领导小组）", "coordinator": "（抄送本办）", "head": "（单位负责人）"}


STATUS_LABELS = {
    "overdue": "逾期未报",
    "not_acknowledged": "未签收",
    "acknowledged": "已签收",
    "submitted": "已报送",
    "late": "逾期报送",
    "returned": "退回修改",
    "accepted": "已验收",
}

ACTION_LABELS = {
    NOTICE: "任务通知",
    RESENT: "重发通知",
    REASSIGNED: "新联系人通知",
    RETURNED: "退回修改通知",
    EXTENDED: "延期通知",
}


def message_label(kind: str, recipient: str, spec: CampaignSettings) -> str:
    """`提醒`, `督办函（单位负责人）`, `情况报告（领导小组）`… for a ledger row."""
    name = rung_name(kind)
    if name in ACTION_LABELS:
        return ACTION_LABELS[name]
    return rung_heading(wording_of(spec, kind), recipient) + WHO.get(recipient, "")
