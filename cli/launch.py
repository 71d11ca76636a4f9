"""`duban launch FILE`: validate the campaign file, run the launch flow, say what it did."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cli.exits import EXIT_FAILED_SENDS, EXIT_OK, Refused
from cli.progress import shown
from cli.text import db_label, pad
from config.campaign.channels import redact
from config.campaign.loader import load_campaign_file
from config.clock import local
from config.clock import now as clock_now
from config.settings import get_settings

if TYPE_CHECKING:
    from cli.exits import Commands
    from flows.launch import LaunchSummary


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    launch = commands.add_parser(
        "launch", parents=[clock], help="launch a campaign file: assignments and notices"
    )
    launch.add_argument("file", type=Path)
    launch.add_argument(
        "--resend-unconfirmed",
        action="store_true",
        help="resend notices a stopped launch may not have delivered (no other launch running)",
    )
    launch.add_argument(
        "--strict",
        action="store_true",
        help="refuse to send when the links would point to this machine (DUBAN_PUBLIC_URL unset)",
    )
    launch.set_defaults(run=run)


def local_links(public_url: str) -> bool:
    """Whether links made on `public_url` open only on this machine."""
    host = (urlsplit(public_url).hostname or "").lower()
    return host in ("localhost", "") or host.startswith("127.") or host == "::1"


def run(args: argparse.Namespace) -> int:
    from tasks.assignment import check_deadline

    # Validate before Prefect starts: a typo is reported at once and nothing runs. Kept for
    # the flow, which then does not validate the same bytes again.
    loaded = load_campaign_file(args.file, keep=True)
    check_deadline(loaded, clock_now())
    public_url = get_settings().public_url
    if local_links(public_url):
        said = (
            f"通知中的专用链接将指向 {public_url}，只有本机能打开：请把 DUBAN_PUBLIC_URL "
            "设为各单位能访问到的本系统地址（如 https://duban.county.gov.cn）"
        )
        if args.strict:
            raise Refused(f"{said}；因加了 --strict，未发出任何通知")
        print(f"注意：{said}。", file=sys.stderr, flush=True)
    from flows.launch import launch_flow

    with shown():
        summary = launch_flow(path=str(args.file), resend_unconfirmed=args.resend_unconfirmed)
    print_summary(summary, written=str(loaded.campaign.due)[:10])
    return EXIT_FAILED_SENDS if summary.delivery.failed else EXIT_OK


def print_summary(summary: LaunchSummary, written: str) -> None:
    """What the launch did; `written` is the deadline's day as the file gives it."""
    from tasks.messages.render import format_deadline

    delivery = summary.delivery
    print()
    state = "已发起" if summary.created else "已更新"
    print(f"活动 {summary.slug}：{summary.title}（{state}）")
    print(f"  报送截止  {format_deadline(summary.due_at, summary.timezone)}（{summary.timezone}）")
    if local(summary.due_at, summary.timezone).date().isoformat() != written:
        print(f"            文件所写的 {written} 不是工作日，顺延至下一个工作日")
    print(f"  参加单位  文件中{summary.departments}个，新建任务{summary.assignments_created}个")
    print(
        f"  任务通知  新增{summary.messages_planned}条，发出{delivery.sent}条，"
        f"失败{len(delivery.failed)}条"
    )
    if summary.released:
        print(f"  按要求重发 {summary.released} 条未确认的通知")
    if summary.unconfirmed:
        print(
            f"  未确认    {summary.unconfirmed}条：上次发起在发出与记录之间中断"
            "（或另有发起正在运行）。\n"
            "            请先与这些单位核实，再加 --resend-unconfirmed 重新执行。"
        )
    if summary.absent_codes:
        print(f"  文件中已删去 {'、'.join(summary.absent_codes)}（任务保留，不再通知）")
    if delivery.outbox:
        folder = Path(delivery.outbox[0].path).parent
        print(f"\n未设置邮件服务器（DUBAN_SMTP_URL），邮件已写入发件箱：{folder}")
        print("各单位专用链接：")
        for copy in sorted(delivery.outbox, key=lambda c: c.department_code):
            print(f"  {pad(copy.department_code, 12)} {pad(copy.department_name, 24)} {copy.link}")
    if delivery.failed:
        print("\n发送失败（已记录；再次执行 duban launch 本文件会重试）：")
        for failure in delivery.failed:
            print(f"  {failure.department_code}  {redact(failure.channel)}：{failure.reason}")
    database = db_label(get_settings().resolved_database_url())
    print(f"\n下一步：duban status {summary.slug}（数据库：{database}）")
