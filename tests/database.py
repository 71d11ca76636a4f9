"""The database each test starts from: migrated once per session, then handed out fresh.

Migrating an empty database takes about a second; a test suite of a hundred database tests
paid it a hundred times. The migrations run once, on a template; every test then gets a copy
(SQLite: the migrated file copied; PostgreSQL: the tables emptied with one TRUNCATE, about
90 ms here against about 150 ms for DROP DATABASE then `CREATE DATABASE … TEMPLATE`, which also
needs every connection to the old one closed). The migration tests ask for an empty database instead
(`pytest.mark.empty_database`) and so still run every revision themselves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, MetaData, inspect

from models import migrations
from models.db import make_engine


def drop_every_table(url: str) -> None:
    """An empty database: every table goes, duban's, `alembic_version` and any other."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                found = MetaData()
                found.reflect(conn)
                found.drop_all(conn)
                return
            names = inspect(conn).get_table_names()
            if names:  # one statement: cheaper than reflecting every table
                quote = conn.dialect.identifier_preparer.quote
                conn.exec_driver_sql(f"DROP TABLE {', '.join(map(quote, names))} CASCADE")
    finally:
        engine.dispose()


def migrated_sqlite_file(path: Path) -> Path:
    """A SQLite file at `path` brought to the newest revision the way a process does it on
    start-up, checkpointed so that the one file holds everything (copies need no WAL)."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrations.upgrade_on_start(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return path


def copy_sqlite(template: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)


class PostgresReset:
    """One PostgreSQL database reused by every test: migrated when its schema is unknown (the
    first test, and after a test that took it apart), otherwise emptied table by table."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._tables: list[str] | None = None  # None: the schema is not known to be at head

    def forget_schema(self) -> None:
        self._tables = None

    def fresh(self) -> None:
        """A database at the newest revision with no rows, like a freshly migrated one
        (identities restart at 1)."""
        engine = self._engine_()
        if self._tables is None:
            drop_every_table(self.url)
            migrations.upgrade_on_start(engine)
            with engine.connect() as conn:
                names = inspect(conn).get_table_names()
            self._tables = [n for n in names if n != migrations.VERSION_TABLE]
            return
        with engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            listed = ", ".join(map(quote, self._tables))
            conn.exec_driver_sql(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")

    def drop(self) -> None:
        self.forget_schema()
        drop_every_table(self.url)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _engine_(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine
