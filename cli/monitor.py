"""`duban monitor`: one pass of the deadline monitor, and what it sent."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.exits import EXIT_FAILED_SENDS, EXIT_OK
from cli.progress import shown
from cli.report import print_report
from config.campaign.channels import redact

if TYPE_CHECKING:
    from cli.exits import Commands


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    monitor = commands.add_parser(
        "monitor", parents=[clock], help="one pass: send the reminders that are due"
    )
    monitor.add_argument(
        "--resend-unconfirmed",
        action="store_true",
        help="resend messages a killed monitor may not have delivered (no other one running)",
    )
    monitor.set_defaults(run=lambda args: one_pass(args.resend_unconfirmed))


def one_pass(resend_unconfirmed: bool = False) -> int:
    """A pass of the monitor flow, printed; `duban serve` runs one on each tick."""
    from flows.monitor import monitor_flow

    with shown():
        summary = monitor_flow(resend_unconfirmed=resend_unconfirmed)
    print()
    print(f"Monitor pass at {summary.at:%Y-%m-%d %H:%M} UTC")
    if summary.released:
        print(f"  {summary.released} unconfirmed message(s) made sendable again, on request")
    for plan in summary.campaigns:
        if not plan.in_office_hours:
            print(f"  {plan.slug}: outside office hours, nothing sent (held until they open)")
            continue
        rungs = ", ".join(f"{n} {name}" for name, n in sorted(plan.by_rung.items())) or "none due"
        print(f"  {plan.slug}: {rungs}; {plan.planned} new message(s), {plan.withdrawn} withdrawn")
    delivery = summary.delivery
    print(f"  sent {delivery.sent}, failed {len(delivery.failed)} (retried with backoff)")
    for failure in delivery.failed:
        print(f"    {failure.department_code}  {redact(failure.channel)}: {failure.reason}")
    failed = bool(delivery.failed)
    for report in summary.reports:
        print(f"  {report.slug}: the final report is due; made it:")
        failed |= print_report(report.files, report.sent)
    for retry in summary.report_retries:
        print(f"  report {retry.report_id}: delivery retried")
        failed |= print_report([], retry)
    return EXIT_FAILED_SENDS if failed else EXIT_OK
