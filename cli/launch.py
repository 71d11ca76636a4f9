"""`duban launch FILE`: validate the campaign file, run the launch flow, say what it did."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.exits import EXIT_FAILED_SENDS, EXIT_OK
from cli.text import db_label, pad
from config.campaign.channels import redact
from config.campaign.loader import load_campaign_file
from config.clock import format_local, local
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
    launch.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tasks.assignment import check_deadline

    # Validate before Prefect starts: a typo is reported at once and nothing runs. Kept for
    # the flow, which then does not validate the same bytes again.
    loaded = load_campaign_file(args.file, keep=True)
    check_deadline(loaded, clock_now())
    from flows.launch import launch_flow

    summary = launch_flow(path=str(args.file), resend_unconfirmed=args.resend_unconfirmed)
    print_summary(summary, written=str(loaded.campaign.due)[:10])
    return EXIT_FAILED_SENDS if summary.delivery.failed else EXIT_OK


def print_summary(summary: LaunchSummary, written: str) -> None:
    """What the launch did; `written` is the deadline's day as the file gives it."""
    delivery = summary.delivery
    print()
    print(
        f"Campaign {summary.slug}: {summary.title} ({'launched' if summary.created else 'updated'})"
    )
    print(
        f"  deadline          {format_local(summary.due_at, summary.timezone)} ({summary.timezone})"
    )
    if local(summary.due_at, summary.timezone).date().isoformat() != written:
        print(f"                    moved from {written}, a day off, to the next working day")
    print(
        f"  departments       {summary.departments} in the file, "
        f"{summary.assignments_created} new assignments"
    )
    print(
        f"  notices           {summary.messages_planned} new, {delivery.sent} sent, "
        f"{len(delivery.failed)} failed"
    )
    if summary.released:
        print(f"  resent on request {summary.released} unconfirmed notice(s)")
    if summary.unconfirmed:
        print(
            f"  unconfirmed       {summary.unconfirmed}: a launch stopped between sending and "
            "recording (or another is running).\n"
            "                    Check with those departments, then run again with "
            "--resend-unconfirmed."
        )
    if summary.absent_codes:
        print(f"  no longer listed  {', '.join(summary.absent_codes)} (kept, not notified again)")
    if delivery.outbox:
        folder = Path(delivery.outbox[0].path).parent
        print(f"\nNo mail relay is set (DUBAN_SMTP_URL), so e-mail went to the outbox: {folder}")
        print("Each department's personal link:")
        for copy in sorted(delivery.outbox, key=lambda c: c.department_code):
            print(f"  {pad(copy.department_code, 12)} {pad(copy.department_name, 24)} {copy.link}")
    if delivery.failed:
        print("\nFailed (recorded; the next `duban launch` of this file retries them):")
        for failure in delivery.failed:
            print(f"  {failure.department_code}  {redact(failure.channel)}: {failure.reason}")
    database = db_label(get_settings().resolved_database_url())
    print(f"\nNext: duban status {summary.slug}   (database: {database})")
