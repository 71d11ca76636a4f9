"""`duban`: launch a campaign, see where it stands.

One parser, made of the command modules' subcommands; one clock (`--now`, declared once and
shared by every command that reads the time); one mapping from errors to exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

# No network here but the package registries; Prefect must not try to phone home.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's INFO lines (each task run, its temporary server and a link to its docs) are not
# for the coordinator; a warning still shows. PREFECT_LOGGING_LEVEL=INFO brings them back.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# The temporary server a command starts logs its own shutdown races as tracebacks ("Error
# flushing 1 events"); a failure that matters reaches the command as an error of its own.
# Its `prefect.server` logger only: PREFECT_SERVER_LOGGING_LEVEL would also silence uvicorn's,
# and with it `duban web`'s record of a request that failed.
os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_SERVER_LEVEL", "CRITICAL")

from cli import (
    campaigns,
    coordinator,
    demo,
    launch,
    migrate,
    monitor,
    notice_import,
    report,
    serve,
    status,
    web,
)
from cli.exits import EXIT_BAD_INPUT, Refused
from cli.text import Printable, db_label
from config.clock import ClockError, parse_instant
from config.settings import get_settings

# In the order `duban --help` lists them.
COMMANDS = (
    launch,
    monitor,
    serve,
    report,
    demo,
    notice_import,
    web,
    coordinator,
    status,
    campaigns,
    migrate,
)


class _Help(argparse.RawDescriptionHelpFormatter):
    """Help that states each option's default, where it has one worth stating."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS)
        if shown and action.option_strings and "%(default)" not in text:
            text += " (default: %(default)s)" if text else "default: %(default)s"
        return text


def settings_help() -> str:
    """Every DUBAN_* setting, its default and what it is for, from the settings themselves."""
    from config.settings import Settings

    lines = ["settings (environment variables, or a .env file in the working folder):"]
    for name, field in Settings.model_fields.items():
        default = field.default if field.default not in (None, "") else "unset"
        lines.append(f"  DUBAN_{name.upper():<28} {field.description or ''} [{default}]")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Printable(sys.stdout), Printable(sys.stderr)
    before = os.environ.get("DUBAN_NOW")
    try:
        args = parser().parse_args(argv)
        if getattr(args, "now", None):
            set_clock(args.now)
        run: Callable[[argparse.Namespace], int] = args.run
        return int(run(args))
    except Exception as exc:
        said = refusal(exc)
        if said is None:
            raise
        print(said, file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        sys.stdout, sys.stderr = streams
        # `--now` held for this command only: a caller that runs `main` again in the same
        # process (a test, a script) gets its own clock back.
        if before is None:
            os.environ.pop("DUBAN_NOW", None)
        else:
            os.environ["DUBAN_NOW"] = before
        get_settings.cache_clear()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="duban",
        description="Deadline-driven, multi-department campaigns (督办).",
        epilog=settings_help(),
        formatter_class=_Help,
    )
    commands = top.add_subparsers(dest="command", required=True)
    clock = argparse.ArgumentParser(add_help=False)
    clock.add_argument("--now", help="ISO-8601 instant to use as the current time")
    for command in COMMANDS:
        command.add_to(commands, clock)
    for sub in commands.choices.values():
        sub.formatter_class = _Help
        sub.epilog = sub.epilog or "See `duban --help` for the DUBAN_* settings."
    return top


def set_clock(given: str) -> None:
    """`--now` is DUBAN_NOW for this one command: everything it does, down to the time it
    stamps on files, reads the one clock (`config.clock.now`)."""
    try:
        at = parse_instant(given, get_settings().timezone)
    except ClockError as exc:
        raise Refused(f"--now: {exc}") from exc
    os.environ["DUBAN_NOW"] = at.isoformat()
    get_settings.cache_clear()


def refusal(exc: Exception) -> str | None:
    """The one line an error ends a command with (and exit code 2), or None for a bug."""
    from sqlalchemy.exc import DBAPIError

    from config.calendars import CalendarFileError
    from config.campaign.loader import CampaignFileError
    from models.migrations import SchemaError

    def database() -> str:
        return db_label(get_settings().resolved_database_url())

    if isinstance(exc, Refused):
        return f"duban: {exc}"
    if isinstance(exc, CampaignFileError):  # it names the file and the line itself
        return str(exc)
    if isinstance(exc, CalendarFileError):  # every command that counts working days reads them
        return f"duban: working calendar: {exc}"
    if isinstance(exc, SchemaError):
        return f"duban: cannot use the database {database()}: {exc}"
    if isinstance(exc, DBAPIError):
        return f"duban: cannot use the database {database()}: {exc.orig}"
    return None


if __name__ == "__main__":
    sys.exit(main())
