"""What the coordinator does from the dashboard: accept a summary, return it for revision,
grant a unit more time, resend its notice, reassign it to another contact.

Each action that tells the department something plans its message in the ledger under a key
naming the action, inside the action's transaction, then sends it: the same action posted
twice sends one message, and a send that fails is retried by the monitor like any other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from config.campaign.channels import canonical, channel_problem
from config.campaign.deadlines import deadline_at
from config.campaign.schema import CampaignSettings
from config.campaign.sms import is_sms
from config.campaign.sms_check import missing_templates
from config.plain_text import control_char
from models import queries as q
from models.db import get_engine
from models.kinds import EXTENDED, REASSIGNED, RESENT, RETURNED, action_kind, deadline_key
from models.tables import AssignmentStatus
from tasks.messages.send import SendReport, send_batch
from tasks.messages.tokens import new_link, secret_key

MAX_COMMENT_CHARS = 2000


class ActionRefused(ValueError):
    """An action that does not apply; the message is shown to the coordinator as is."""


def find_unit(slug: str, code: str) -> dict[str, Any] | None:
    with get_engine().connect() as conn:
        campaign = q.campaign_by_slug(conn, slug)
        return q.unit_by_code(conn, campaign["id"], code) if campaign else None


def accept(unit: dict[str, Any], version: int, by: str, now: datetime) -> None:
    if unit["status"] != AssignmentStatus.SUBMITTED:
        raise ActionRefused("该单位当前没有待审核的材料。")
    with get_engine().begin() as conn:
        if q.review_latest(conn, unit["assignment_id"], version, "accepted", None, by, now) is None:
            raise ActionRefused(_stale(version))
        q.set_status(conn, unit["assignment_id"], AssignmentStatus.ACCEPTED, now)


def return_for_revision(
    unit: dict[str, Any], version: int, comment: str, by: str, now: datetime
) -> list[int]:
    """Send the summary back with the coordinator's comment; the department gets a message
    with its link, and the ladder chases it again from its deadline."""
    comment = comment.strip()
    if not comment:
        raise ActionRefused("退回修改时请填写修改意见。")
    if len(comment) > MAX_COMMENT_CHARS:
        raise ActionRefused(f"修改意见请控制在{MAX_COMMENT_CHARS}字以内。")
    _plain("修改意见", comment, multiline=True)
    if unit["status"] != AssignmentStatus.SUBMITTED:
        raise ActionRefused("该单位当前没有待审核的材料。")
    with get_engine().begin() as conn:
        submission_id = q.review_latest(
            conn, unit["assignment_id"], version, "returned", comment, by, now
        )
        if submission_id is None:
            raise ActionRefused(_stale(version))
        q.set_status(conn, unit["assignment_id"], AssignmentStatus.RETURNED, now)
        return _plan(conn, unit, action_kind(RETURNED, submission_id), now, note=comment)


def extend(unit: dict[str, Any], new_due: date | datetime, now: datetime) -> list[int]:
    """A new deadline for one unit. A date means the end of that day in the campaign's
    timezone and moves past days off, like the campaign's own deadline. The ladder keys its
    reminders by deadline, so the old date's reminders stop and the new date's follow."""
    if unit["status"] == AssignmentStatus.ACCEPTED:
        raise ActionRefused("该单位的材料已通过验收，无需延期。")
    due_at = deadline_at(new_due, unit["timezone"])
    if due_at <= now:
        raise ActionRefused("新的截止时间必须晚于现在。")
    if due_at == unit["due_at"]:
        raise ActionRefused("新的截止时间与现在的截止时间相同。")
    with get_engine().begin() as conn:
        q.set_due(conn, unit["assignment_id"], due_at, now)
        return _plan(conn, unit, action_kind(EXTENDED, deadline_key(due_at)), now)


def resend_notice(unit: dict[str, Any], form_key: str, now: datetime) -> list[int]:
    """The notice again, to the unit's current contact. Keyed by the form, so that a double
    click sends it once."""
    if not form_key or len(form_key) > 32:
        raise ActionRefused("表单已过期，请刷新页面后重试。")
    with get_engine().begin() as conn:
        return _plan(conn, unit, action_kind(RESENT, form_key), now)


def parse_contacts(text: str, spec: CampaignSettings) -> list[str]:
    """One address per line (or comma-separated), checked like a campaign file's `notify`."""
    entries = [e.strip() for line in text.splitlines() for e in line.split(",") if e.strip()]
    if not entries:
        raise ActionRefused("请至少填写一个接收地址（电子邮箱、Apprise 地址或渠道名）。")
    resolved = [canonical(e) for e in spec.resolve(entries)]
    for entry in resolved:
        problem = channel_problem(entry)
        if problem:
            raise ActionRefused(f"接收地址无法使用：{problem}")
    if any(is_sms(e) for e in resolved):
        missing = missing_templates(spec, "department") if spec.sms else ["sms"]
        if missing:
            # The same rule as the launch's: a number that would get a message with no
            # approved template is refused, not left to fail later.
            raise ActionRefused(
                f"本活动的短信模板不全（缺少 {'、'.join(missing)}），不能添加短信号码；"
                "请在活动文件的 sms: 部分补齐后重新发起。"
            )
    return resolved


def reassign(
    unit: dict[str, Any],
    notify_text: str,
    person: str | None,
    phone: str | None,
    now: datetime,
) -> list[int]:
    """Hand the unit to another contact: the old link stops working at once, a new link goes
    to the new contact, and unsent messages to the old addresses are withdrawn. A later launch
    of the campaign file keeps this contact."""
    if unit["status"] == AssignmentStatus.ACCEPTED:
        raise ActionRefused("该单位的材料已通过验收，无需重新指派。")
    _plain("联系人", person or "")
    _plain("联系电话", phone or "")
    notify = parse_contacts(notify_text, unit["spec"])
    contact = {"notify": notify, "person": (person or "").strip() or None}
    contact["phone"] = (phone or "").strip() or None
    key = secret_key()
    with get_engine().begin() as conn:
        q.reassign_department(conn, unit["department_id"], contact, now)
        q.revoke_links(conn, unit["assignment_id"], now)
        link = new_link(key, unit["assignment_id"], now)
        q.insert_tokens(conn, [link])
        q.withdraw_unsent(conn, unit["assignment_id"], notify, now)
        kind = action_kind(REASSIGNED, link["token_hash"][:16])
        return _plan(conn, {**unit, "notify": notify}, kind, now)


def _plain(label: str, text: str, multiline: bool = False) -> None:
    char = control_char(text, multiline)
    if char:
        raise ActionRefused(f"{label}含有不可见的控制字符（{char}），请删除后重试。")


def send_now(ids: list[int], now: datetime | None = None) -> SendReport:
    """Send what an action planned. A failure stays in the ledger, where the monitor retries
    it; the dashboard shows it meanwhile."""
    return send_batch.fn(ids, now) if ids else SendReport()


def _plan(
    conn: Connection, unit: dict[str, Any], kind: str, now: datetime, note: str | None = None
) -> list[int]:
    rows = [
        q.ledger_row(unit["campaign_id"], unit["assignment_id"], kind, channel, now, note=note)
        for channel in unit["notify"]
    ]
    q.insert_ledger_rows(conn, rows)
    return q.planned_ids(conn, unit["assignment_id"], kind)


def _stale(version: int) -> str:
    return f"该单位已提交新的版本或第{version}版已审核，请刷新页面后再操作。"
