"""`duban`: launch a campaign, see where it stands."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

# No network here but the package registries; Prefect must not try to phone home.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from config.campaign.channels import redact
from config.campaign.loader import CampaignFileError, load_campaign_file
from config.clock import ClockError, format_local, local, parse_instant
from config.clock import now as clock_now
from config.settings import get_settings

if TYPE_CHECKING:
    from tasks.report.delivery import ReportSent

EXIT_OK, EXIT_FAILED_SENDS, EXIT_BAD_INPUT = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        given = getattr(args, "now", None)
        now = parse_instant(given, get_settings().timezone) if given else None
    except ClockError as exc:
        print(f"duban: --now: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if now is not None:
        # One clock for everything this command does, including what it stamps on files.
        os.environ["DUBAN_NOW"] = now.isoformat()
        get_settings.cache_clear()
    from sqlalchemy.exc import DBAPIError

    from config.calendars import CalendarFileError
    from models.migrations import SchemaError

    try:
        return int(args.handler(args, now))
    except CalendarFileError as exc:  # every command that counts working days reads them
        print(f"duban: working calendar: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SchemaError as exc:
        database = _db_label(get_settings().resolved_database_url())
        print(f"duban: cannot use the database {database}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DBAPIError as exc:
        database = _db_label(get_settings().resolved_database_url())
        print(f"duban: cannot use the database {database}: {exc.orig}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="duban", description="Deadline-driven, multi-department campaigns (督办)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    launch = sub.add_parser("launch", help="launch a campaign file: assignments and notices")
    launch.add_argument("file", type=Path)
    launch.add_argument("--now", help="ISO-8601 instant to use as the current time")
    launch.add_argument(
        "--resend-unconfirmed",
        action="store_true",
        help="resend notices a stopped launch may not have delivered (no other launch running)",
    )
    launch.set_defaults(handler=_launch)

    monitor = sub.add_parser("monitor", help="one pass: send the reminders that are due")
    monitor.add_argument("--now", help="ISO-8601 instant to use as the current time")
    monitor.add_argument(
        "--resend-unconfirmed",
        action="store_true",
        help="resend messages a killed monitor may not have delivered (no other one running)",
    )
    monitor.set_defaults(handler=_monitor)

    serve = sub.add_parser("serve", help="run the monitor on its schedule until stopped")
    serve.add_argument("--interval", type=int, default=15, help="minutes between passes")
    serve.add_argument("--passes", type=int, default=None, help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    report = sub.add_parser("report", help="write the campaign's report: Word, HTML and CSV")
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
    report.add_argument("--now", help="ISO-8601 instant to use as the current time")
    report.set_defaults(handler=_report)

    demo = sub.add_parser(
        "demo", help="rehearse the 大田县 2021 campaign in simulated time, start to report"
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("duban-demo"),
        help="the demo's own folder: database, outbox, reports (default: ./duban-demo)",
    )
    demo.set_defaults(handler=_demo)

    notice = sub.add_parser(
        "import", help="read a notice (通知) into a draft campaign file for review"
    )
    notice.add_argument(
        "notice",
        type=Path,
        help="the notice: text (UTF-8, GBK/GB18030) or .docx; with --check, also a draft (.yaml)",
    )
    notice.add_argument(
        "--out",
        type=Path,
        help="the draft (default: the notice's name with .yaml, here; - prints it)",
    )
    notice.add_argument(
        "--check",
        action="store_true",
        help="print what is missing or marked to check (of a notice, or of a draft); write nothing",
    )
    notice.add_argument("--force", action="store_true", help="replace an existing draft file")
    notice.add_argument("--encoding", help="the notice's encoding, if not UTF-8 or GBK/GB18030")
    notice.add_argument("--now", help="ISO-8601 instant to use as the current time")
    notice.set_defaults(handler=_import)

    web = sub.add_parser("web", help="serve the departments' link pages and the dashboard")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument(
        "--workers", type=int, default=1, help="processes (they share the database and key)"
    )
    web.set_defaults(handler=_web)

    account = sub.add_parser("coordinator", help="dashboard accounts")
    account_sub = account.add_subparsers(dest="account_command", required=True)
    add = account_sub.add_parser("add", help="create an account, or set a new password")
    add.add_argument("username")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(handler=_coordinator_add)

    status = sub.add_parser("status", help="one row per department of a campaign")
    status.add_argument("campaign", help="the campaign's slug")
    status.add_argument("--json", action="store_true", help="print a JSON list of objects")
    status.add_argument("--now", help="ISO-8601 instant to use as the current time")
    status.set_defaults(handler=_status)

    migrate = sub.add_parser("migrate", help="upgrade the database's schema to this version's")
    migrate.add_argument(
        "--sql", action="store_true", help="print the SQL it would run instead; change nothing"
    )
    migrate.set_defaults(handler=_migrate)
    return parser


def _launch(args: argparse.Namespace, now: datetime | None) -> int:
    from tasks.assignment import check_deadline

    # Validate before Prefect starts: a typo is reported at once and nothing runs. Kept for
    # the flow, which then does not validate the same bytes again.
    try:
        loaded = load_campaign_file(args.file, keep=True)
        check_deadline(loaded, clock_now(now))
    except CampaignFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    from flows.launch import launch_flow

    try:
        summary = launch_flow(
            path=str(args.file), now=now, resend_unconfirmed=args.resend_unconfirmed
        )
    except CampaignFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    delivery = summary.delivery
    settings = get_settings()
    print()
    print(
        f"Campaign {summary.slug}: {summary.title} ({'launched' if summary.created else 'updated'})"
    )
    print(
        f"  deadline          {format_local(summary.due_at, summary.timezone)} ({summary.timezone})"
    )
    written = str(loaded.campaign.due)[:10]
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
            print(
                f"  {_pad(copy.department_code, 12)} {_pad(copy.department_name, 24)} {copy.link}"
            )
    if delivery.failed:
        print("\nFailed (recorded; the next `duban launch` of this file retries them):")
        for failure in delivery.failed:
            print(f"  {failure.department_code}  {redact(failure.channel)}: {failure.reason}")
    database = _db_label(settings.resolved_database_url())
    print(f"\nNext: duban status {summary.slug}   (database: {database})")
    return EXIT_FAILED_SENDS if delivery.failed else EXIT_OK


def _monitor(args: argparse.Namespace, now: datetime | None) -> int:
    from flows.monitor import monitor_flow

    summary = monitor_flow(now=now, resend_unconfirmed=getattr(args, "resend_unconfirmed", False))
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
        failed |= _print_report(report.files, report.sent)
    for retry in summary.report_retries:
        print(f"  report {retry.report_id}: delivery retried")
        failed |= _print_report([], retry)
    return EXIT_FAILED_SENDS if failed else EXIT_OK


def _print_report(files: list[Path], sent: ReportSent | None) -> bool:
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


def _serve(args: argparse.Namespace, now: datetime | None) -> int:
    from cli.serve import serve

    if not 1 <= args.interval <= 24 * 60:
        print("duban: --interval: give minutes between 1 and 1440", file=sys.stderr)
        return EXIT_BAD_INPUT
    return serve(args.interval, lambda: _monitor(args, None), args.passes)


def _report(args: argparse.Namespace, now: datetime | None) -> int:
    if not _known_campaign(args.campaign):
        return EXIT_BAD_INPUT
    if args.out:
        try:  # before the flow starts: a wrong folder is reported at once, in one line
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"duban: --out: cannot write the report there: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    from flows.report import report_flow

    try:
        summary = report_flow(
            slug=args.campaign,
            out=str(args.out) if args.out else None,
            which="latest" if args.latest else "accepted",
            final=args.final,
            now=now,
            send=not args.no_send,
        )
    except OSError as exc:
        print(f"duban: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"\n{'Final' if summary.final else 'Progress'} report of {summary.slug}:")
    return EXIT_FAILED_SENDS if _print_report(summary.files, summary.sent) else EXIT_OK


def _demo(args: argparse.Namespace, now: datetime | None) -> int:
    from cli.demo import run_demo

    return run_demo(args.dir)


def _import(args: argparse.Namespace, now: datetime | None) -> int:
    from cli.notice_import import run_import

    return run_import(args.notice, args.out, args.check, args.force, args.encoding, now)


def _known_campaign(slug: str) -> bool:
    from models import queries as q
    from models.db import get_engine

    with get_engine().connect() as conn:
        if q.campaign_by_slug(conn, slug) is not None:
            return True
    return _no_campaign(slug) == EXIT_OK


def _no_campaign(slug: str) -> int:
    print(f"duban: no campaign with slug {slug!r}; launch its file first", file=sys.stderr)
    return EXIT_BAD_INPUT


def _web(args: argparse.Namespace, now: datetime | None) -> int:
    import uvicorn

    from tasks.messages.tokens import secret_key

    if args.workers < 1:
        print("duban: --workers: give at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    # Made before the workers start: each would otherwise race to create the link key.
    secret_key()
    settings = get_settings()
    print(f"Link pages and dashboard on http://{args.host}:{args.port}/ ")
    print(f"  links in notices point to {settings.public_url} (DUBAN_PUBLIC_URL)")
    print(f"  database: {_db_label(settings.resolved_database_url())}")
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    return EXIT_OK


def _coordinator_add(args: argparse.Namespace, now: datetime | None) -> int:
    import getpass

    from tasks.accounts import AccountError, save_account

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            print("duban: the passwords differ; nothing changed", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        created = save_account(args.username, password)
    except AccountError as exc:
        print(f"duban: {exc}; nothing changed", file=sys.stderr)
        return EXIT_BAD_INPUT
    what = "created" if created else "password changed (its open sessions are signed out)"
    print(f"Coordinator {args.username}: {what}")
    return EXIT_OK


def _migrate(args: argparse.Namespace, now: datetime | None) -> int:
    """Every command migrates on start; this one does only that, and says what it did."""
    from models import migrations

    database = _db_label(get_settings().resolved_database_url())
    if args.sql:  # the output is a script: what is not SQL is a comment
        print(f"-- database: {database}")
        done = migrations.print_sql()
        print(f"-- schema before: {done.describe_before()}; after this SQL: {done.after}")
        return EXIT_OK
    print(f"database: {database}")
    done = migrations.migrate()
    print(f"schema before: {done.describe_before()}")
    print(f"schema after:  {done.after}{'' if done.after != done.before else ' (unchanged)'}")
    return EXIT_OK


def _status(args: argparse.Namespace, now: datetime | None) -> int:
    from tasks.status import UnknownCampaign, campaign_status

    try:
        status = campaign_status(args.campaign, now)
    except UnknownCampaign:
        return _no_campaign(args.campaign)
    if args.json:
        print(json.dumps([r.as_json() for r in status.rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{status.slug}: {status.title} ({status.timezone})")
    header = ("code", "department", "status", "due", "time left", "sent", "failed")
    widths = (12, 24, 12, 28, 18, 5, 6)
    print(" ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)))
    for r in status.rows:
        cells = (
            r.code,
            r.name,
            r.status,
            r.due_text,
            r.time_left,
            str(r.notices_sent),
            str(r.notices_failed),
        )
        print(" ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip())
        sent = [
            f"{m['message']}{'' if m['to'] == 'department' else '→' + m['to']} "
            f"{m['sent_at'][5:16].replace('T', ' ')}"
            for m in r.messages
            if m["sent_at"]
        ]
        if sent:
            print(f"{'':13}sent: {'; '.join(sent)}")
        if not r.in_file:
            print(f"{'':13}no longer in the campaign file: kept, not notified")
        if r.last_error:
            print(f"{'':13}last error: {r.last_error}")
        if r.notices_unconfirmed:
            print(
                f"{'':13}{r.notices_unconfirmed} notice(s) unconfirmed: the sender stopped "
                "mid-send; check with the department before resending"
            )
    return EXIT_OK


def _pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns; CJK characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def _db_label(url: str) -> str:
    return url.split("@", 1)[-1] if "@" in url else url


if __name__ == "__main__":
    sys.exit(main())
