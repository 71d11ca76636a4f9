"""Turning ledger rows into the words a department reads (Chinese by default)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from config.calendars import WorkCalendar
from config.campaign.schema import CampaignSettings, Requirements
from config.clock import (
    WEEKDAYS_ZH,
    days_overdue,
    end_of_day,
    format_local,
    local,
    month_day,
    written,
    written_span,
)
from config.ladder import Rung
from models import queries as q
from models.kinds import (
    EXTENDED,
    MISCONFIGURED,
    NOTICE,
    REASSIGNED,
    RESENT,
    RETURNED,
    rung_name,
)
from tasks.messages.labels import rung_heading, rung_of, wording_of


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
    """`2021年9月30日（星期四）24时` for a deadline at the end of a day, else with its time
    (`…（星期四）17:00`): 「9月30日前」 would leave open whether the 30th counts."""
    text = format_local(due_at, timezone)
    return text.removesuffix("23:59") + "24时" if text.endswith("）23:59") else text


def overdue_words(days: int) -> str:
    """Days past a deadline, as every message says them: calendar days, named so (a holiday
    week counts), beside the working days a reminder counts down."""
    return f"{days}个自然日"


def reply_by(rung: Rung | None, now: datetime, timezone: str, calendar: WorkCalendar) -> str | None:
    """The new time limit a 督办 sets (`Rung.reply_within` working days from its day)."""
    if rung is None or rung.reply_within is None:
        return None
    today = calendar.on_or_after(local(now, timezone).date())
    return format_deadline(end_of_day(calendar.shift(today, rung.reply_within), timezone), timezone)


def period_text(spec: CampaignSettings) -> str | None:
    if not spec.period:
        return None
    return written_span(spec.period.start, spec.period.end)


def _coordinator(spec: CampaignSettings) -> str | None:
    """`示例联系人，电话：0598-0000000`: the person to call (the office, when the file names
    nobody) and the number, labelled. The office signs the message below it."""
    c = spec.coordinator
    if not c:
        return None
    return "，".join(x for x in (c.person or c.name, f"电话：{c.phone}" if c.phone else "") if x)


def render(item: q.Outgoing, link: str, now: datetime, calendar: WorkCalendar) -> Message:
    """The words for one ledger row: the launch notice, or a rung of the ladder."""
    spec = item.campaign_spec
    name = rung_name(item.kind)
    if name in (NOTICE, RESENT, REASSIGNED):
        return render_notice(spec, item.department_name, item.duties, item.due_at, link, now)
    if name == MISCONFIGURED:
        return render_misconfigured(spec, item.department_name, item.note)
    if name in (RETURNED, EXTENDED):
        return render_action(spec, name, item.department_name, item.due_at, link, now, item.note)
    tz = spec.timezone
    deadline_day = local(item.due_at, tz).date()
    return render_reminder(
        spec,
        wording_of(spec, item.kind),
        item.recipient,
        item.department_name,
        item.department_contact,
        item.due_at,
        link,
        now,
        working_days_left=max(calendar.count_between(local(now, tz).date(), deadline_day), 0),
        days_overdue=days_overdue(item.due_at, now, tz),
        acknowledged_at=item.acknowledged_at,
        reply_by=reply_by(rung_of(spec, item.kind), now, tz, calendar),
    )


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
        sent_on=written(local(now, tz)),
    )
    return Message(title=f"【任务通知】{spec.title}（{department}）", body=body)


def render_misconfigured(spec: CampaignSettings, department: str, note: str | None) -> Message:
    """To the coordinator: a channel refused a message for its own configuration, so it is
    not retried until the channel is fixed."""
    body = (
        f"发往{department}的消息未能送达，平台拒收：\n{note or ''}\n\n"
        "拒收原因在渠道本身（机器人地址或密钥、关键词、加签、IP白名单等），重试不会成功，"
        "系统不再自动重发。请核对并修正后重新执行 duban launch，系统将再试一次。\n"
    )
    return Message(title=f"【渠道配置有误】{spec.title}（{department}）", body=body)


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
        sent_on=written(local(now, tz)),
    )
    heading = "退回修改" if action == "returned" else "延期通知"
    return Message(title=f"【{heading}】{spec.title}（{department}）", body=body)


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
    reply_by: str | None = None,
) -> Message:
    """A rung of the ladder: 提醒, 催办, 督办 or 督办函 to the department or its head, a copy of
    the overdue notice to the coordinator, a 情况报告 to the leadership group."""
    tz = spec.timezone
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
        overdue=overdue_words(days_overdue),
        reply_by=reply_by,
        today=f"{month_day(local(now, tz))}，{WEEKDAYS_ZH[local(now, tz).weekday()]}",
        acknowledged=month_day(local(acknowledged_at, tz)) if acknowledged_at else None,
        deliverables=deliverables(spec.requirements),
        link=link,
        contact=contact,
        coordinator=_coordinator(spec),
        sent_on=written(local(now, tz)),
    )
    return Message(
        title=f"【{rung_heading(wording, recipient)}】{spec.title}（{department}）", body=body
    )
