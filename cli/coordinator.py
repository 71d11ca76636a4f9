"""`duban coordinator add NAME`: a dashboard account, or a new password for one."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cli.exits import EXIT_OK, Refused

if TYPE_CHECKING:
    from cli.exits import Commands


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    account = commands.add_parser("coordinator", help="dashboard accounts")
    account_commands = account.add_subparsers(dest="account_command", required=True)
    add = account_commands.add_parser("add", help="create an account, or set a new password")
    add.add_argument("username")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(run=run_add)


def run_add(args: argparse.Namespace) -> int:
    from tasks.accounts import AccountError, save_account

    password = _password(args.username, args.password_stdin)
    try:
        created = save_account(args.username, password)
    except AccountError as exc:
        raise Refused(f"{exc}; nothing changed") from exc
    what = "created" if created else "password changed (its open sessions are signed out)"
    print(f"Coordinator {args.username}: {what}")
    return EXIT_OK


def _password(username: str, from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        # A password piped from a Windows file ends in CRLF: the CR is not part of it.
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Again: ") != password:
        raise Refused("the passwords differ; nothing changed")
    return password
