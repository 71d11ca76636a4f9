"""`duban migrate [--sql]`: bring the database's schema to this version's, and say so."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.exits import EXIT_OK
from cli.text import db_label
from config.settings import get_settings

if TYPE_CHECKING:
    from cli.exits import Commands


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser("migrate", help="upgrade the database's schema to this version's")
    migrate.add_argument(
        "--sql", action="store_true", help="print the SQL it would run instead; change nothing"
    )
    migrate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Every command migrates on start; this one does only that, and says what it did."""
    from models import migrations

    database = db_label(get_settings().resolved_database_url())
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
