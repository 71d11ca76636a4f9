"""`duban report CAMPAIGN`: write the campaign's report, send it, say where it went."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cli.campaigns import no_campaign
from cli.exits import EXIT_FAILED_SENDS, EXIT_OK, Refused
from config.private_files import private_folder

if TYPE_CHECKING:
    from cli.exits import Commands
    from tasks.report.delivery import ReportSent


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    report = commands.add_parser(
        "report", parents=[clock], help="write the campaign's report: Word, HTML and CSV"
    )
    report.add_argument("campaign", help="the campaign's slug")
    report.add_argument("--out", type=Path, help="folder (default: DUBAN_DATA_DIR/reports/SLUG)")
    report.add_argument(
        "--latest",
        action="store_true",
        help="report every unit's latest summary, not only accepted ones",
    )
    report.add_argument(
        "--final", action="store_true", help="the final report (otherwise a progress report)"
    )
    report.add_argument("--no-send", action="store_true", help="write the files only; send nothing")
    report.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_campaign(args.campaign)
    if args.out:
        try:  # before the flow starts: a wrong folder is reported at once, in one line
            private_folder(args.out)
        except OSError as exc:
            raise Refused(f"--out: cannot write the report there: {exc}") from exc
    from flows.report import report_flow

    try:
        summary = report_flow(
            slug=args.campaign,
            out=str(args.out) if args.out else None,
            which="latest" if args.latest else "accepted",
            final=args.final,
            send=not args.no_send,
        )
    except OSError as exc:
        raise Refused(f"cannot write the report: {exc}") from exc
    print(f"\n{'Final' if summary.final else 'Progress'} report of {summary.slug}:")
    return EXIT_FAILED_SENDS if print_report(summary.files, summary.sent) else EXIT_OK


def check_campaign(slug: str) -> None:
    from models import queries as q
    from models.db import get_engine

    with get_engine().connect() as conn:
        if q.campaign_by_slug(conn, slug) is None:
            raise no_campaign(slug)


def print_report(files: list[Path], sent: ReportSent | None) -> bool:
    """Where the report lies and where it went; True if a delivery failed."""
    for path in files:
        print(f"    {path}")
    if sent is None:
        print("    not sent (--no-send)")
        return False
    if not sent.channels:
        print("    not sent: the campaign file names no coordinator channel (coordinator.notify)")
    elif sent.sent or sent.failed or sent.unconfirmed:
        print(f"    sent to {sent.sent} of {sent.channels} coordinator channel(s)")
    else:
        print("    already sent: the same report went out before; nothing sent again")
    for path in sent.outbox:
        print(f"    no mail relay is set (DUBAN_SMTP_URL): written to the outbox, {path}")
    if sent.unconfirmed:
        print(
            f"    {sent.unconfirmed} unconfirmed: a sender stopped mid-send; check with the "
            "coordinator before sending again"
        )
    for channel, reason in sent.failed:
        print(f"    failed {channel}: {reason} (retried by the monitor)")
    return bool(sent.failed)
