"""The names of messages and states as titles, pages and the report show them: 提醒, 催办,
督办函（单位负责人）, 已签收…"""

from __future__ import annotations

from config.campaign.schema import CampaignSettings
from config.ladder import Rung
from models.kinds import (
    EXTENDED,
    MISCONFIGURED,
    NOTICE,
    REASSIGNED,
    RESENT,
    RETURNED,
    rung_name,
)

HEADINGS = {"reminder": "提醒", "urgent": "催办", "overdue": "督办", "escalation": "督办"}


def rung_of(spec: CampaignSettings, kind: str) -> Rung | None:
    """The rung a ledger key names, if the campaign's ladder still has it."""
    name = rung_name(kind)
    return next((r for r in spec.escalation if r.name == name), None)


def wording_of(spec: CampaignSettings, kind: str) -> str:
    """The wording of the rung a ledger key names (`reminder` if the ladder lost it)."""
    rung = rung_of(spec, kind)
    return rung.wording if rung else "reminder"


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
    MISCONFIGURED: "渠道配置有误（告协调人）",
}


def message_label(kind: str, recipient: str, spec: CampaignSettings) -> str:
    """`提醒`, `督办函（单位负责人）`, `情况报告（领导小组）`… for a ledger row."""
    name = rung_name(kind)
    if name in ACTION_LABELS:
        return ACTION_LABELS[name]
    return rung_heading(wording_of(spec, kind), recipient) + WHO.get(recipient, "")
