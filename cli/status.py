"""`duban status CAMPAIGN`: one row per department, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from cli.campaigns import no_campaign
from cli.exits import EXIT_OK
from cli.text import table

if TYPE_CHECKING:
    from cli.exits import Commands
    from tasks.status import CampaignStatus, StatusRow

HEADER = ("单位代码", "单位名称", "状态", "报送截止", "剩余时间", "消息")
# The dashboard's chips, in its order and words.
COUNTED = ("not_acknowledged", "acknowledged", "submitted", "late", "returned", "accepted")


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    status = commands.add_parser(
        "status", parents=[clock], help="one row per department of a campaign"
    )
    status.add_argument("campaign", help="the campaign's slug")
    status.add_argument("--json", action="store_true", help="print a JSON list of objects")
    status.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tasks.status import UnknownCampaign, campaign_status

    try:
        status = campaign_status(args.campaign)
    except UnknownCampaign:
        raise no_campaign(args.campaign) from None
    if args.json:
        print(json.dumps([r.as_json() for r in status.rows], ensure_ascii=False, indent=2))
    else:
        print_table(status)
    return EXIT_OK


def print_table(status: CampaignStatus) -> None:
    """The dashboard in text: its totals, its words, its order (units that still owe their
    summary first, earliest deadline first), then what went wrong with each unit's messages."""
    from config.clock import format_local
    from tasks.messages.labels import STATUS_LABELS

    counts = status.counts
    print(f"{status.slug}：{status.title}（截至 {format_local(status.at, status.timezone)}）")
    figures = "，".join(f"{STATUS_LABELS[k]}{counts.get(k, 0)}" for k in COUNTED)
    print(f"共{counts.get('total', 0)}个单位：{figures}；逾期未报{counts.get('overdue', 0)}")
    print()
    order = sorted(status.rows, key=lambda r: (not r.open, r.due))
    cells = [
        (
            r.code,
            r.name,
            r.status_label,
            r.due_text,
            r.time_left if r.open else "—",
            f"已送达{r.notices_sent}" + (f"，失败{r.notices_failed}" if r.notices_failed else ""),
        )
        for r in order
    ]
    for line in table(HEADER, cells):
        print(line)
    notes = [note for r in order for note in _notes(r)]
    if notes:
        print()
        for note in notes:
            print(note)


def _notes(r: StatusRow) -> list[str]:
    """What a coordinator must act on, unit by unit."""
    said = []
    if not r.in_file:
        said.append(f"{r.name}：已不在活动文件中（任务保留，不再通知）")
    for m in r.messages:
        if m["state"] == "misconfigured":
            said.append(
                f"{r.name}：{m['label']}发往 {m['channel']} 渠道配置有误，不再重试：{m['error']}"
                "（修正后重新执行 duban launch）"
            )
        elif m["state"] == "failed":
            said.append(f"{r.name}：{m['label']}发送失败（{m['attempts']}次）：{m['error']}")
    if r.notices_unconfirmed:
        said.append(
            f"{r.name}：{r.notices_unconfirmed}条消息发出后未确认（发送中断），"
            "请先与该单位核实，再决定是否重发"
        )
    return said
