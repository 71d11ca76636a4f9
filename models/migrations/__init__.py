"""Schema migrations: Alembic revisions in `versions/`, applied when a process first makes its
engine (`models.db.get_engine`) and by `duban migrate`.

At head, start-up costs one query (the version row) and Alembic is not even imported. Else
the upgrade runs under a lock, in one transaction, so that processes starting together
migrate once: `pg_advisory_xact_lock` on PostgreSQL, the write lock taken by `BEGIN IMMEDIATE`
on SQLite. A database made by the release before migrations (tables, no version table) is
stamped `PREVIOUS_RELEASE` first; a database at a revision this code does not know is left
alone with a `SchemaError`.

New revision: `python -m models.migrations revision -m "what changes"` (add `--autogenerate`
to draft it from the models against a database at head), then write it out and review it;
`python -m models.migrations check` compares a database at head with the models."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Connection, Engine, column, func, inspect, select, table
from sqlalchemy.exc import DBAPIError
from sqlmodel import AutoString, SQLModel

from models import tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from models.faults import transient

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
VERSION_TABLE = "alembic_version"
# The schema `create_all` made before there were migrations (release 25e987f). A database
# with duban's tables and no version table is taken to be at it.
PREVIOUS_RELEASE = "0001"
# Revisions are numbered, file names start with the number ("0002_reports.py"): the newest is
# read off the folder, without loading Alembic (a test checks it against Alembic's head).
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")
# Any fixed 64-bit number: the key of the advisory lock that serialises migrations.
PG_LOCK_KEY = 0x64756261_6E_6D67  # "duban" "mg"

log = logging.getLogger("duban.migrations")


def _render_item(kind: str, obj: Any, _context: Any) -> str | bool:
    """Drafts say `sa.String(n)` for SQLModel's `AutoString(n)`: a revision must not depend on
    the models' code."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


# How env.py runs revisions and autogenerate compares: batch mode so that an ALTER on SQLite
# rebuilds the table; types and server defaults compared too.
OPTIONS: dict[str, Any] = {
    "target_metadata": SQLModel.metadata,
    "render_as_batch": True,
    "compare_type": True,
    "compare_server_default": True,
    "render_item": _render_item,
}


def _newest_revision() -> str:
    numbers = [m.group(1) for p in VERSIONS.iterdir() if (m := _NUMBERED.match(p.name))]
    return max(numbers, default="0000")


HEAD = _newest_revision()


class SchemaError(RuntimeError):
    """The database's schema is not one this duban can use or upgrade."""


@dataclass(frozen=True)
class Migrated:
    before: str | None  # None: no version table (an empty database, or PREVIOUS_RELEASE's)
    unversioned_tables: bool  # before was None and duban's tables were there: stamped
    after: str

    def describe_before(self) -> str:
        if self.before is not None:
            return self.before
        if self.unversioned_tables:
            return f"none: tables of the release before migrations (stamped {PREVIOUS_RELEASE})"
        return "none: an empty database"


# --- on start ------------------------------------------------------------------------------


def upgrade_on_start(engine: Engine) -> Migrated | None:
    """Bring the schema to `HEAD` unless it is there; None if it was (one query)."""
    try:
        with engine.connect() as conn:
            if _version_rows(conn) == [HEAD]:
                return None
    except DBAPIError as exc:
        if transient(exc):
            raise  # locked or unreachable, not unmigrated: waiting again for the lock is no use
        # no version table yet: decided under the lock
    return upgrade(engine)


def _version_rows(conn: Connection) -> list[str]:
    version = table(VERSION_TABLE, column("version_num"))
    return list(conn.execute(select(version.c.version_num)).scalars())


def current_revision(conn: Connection) -> str | None:
    """The database's revision; None without a version table. Raises `SchemaError` if it
    has several (branches, which duban does not make)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = _version_rows(conn)
    if len(rows) > 1:
        raise SchemaError(f"the database has several schema revisions ({', '.join(rows)})")
    return rows[0] if rows else None


def upgrade(engine: Engine) -> Migrated:
    """Stamp a database of the release before migrations, then upgrade to head, under the lock
    and in one transaction: a failure changes nothing."""
    from alembic import command

    with locked(engine) as conn:
        before, legacy = _state(conn)
        config = alembic_config(connection=conn)
        if legacy:
            command.stamp(config, PREVIOUS_RELEASE)
        if before != HEAD:
            command.upgrade(config, "head")
        after = current_revision(conn)
    assert after is not None
    done = Migrated(before=before, unversioned_tables=legacy, after=after)
    if before != after:
        log.info("database schema upgraded from %s to %s", done.describe_before(), after)
    return done


def _state(conn: Connection) -> tuple[str | None, bool]:
    """(revision, whether it is an unversioned database of the previous release); raises
    `SchemaError` for a revision this code does not know."""
    before = current_revision(conn)
    if before is None:
        return None, inspect(conn).has_table("campaign")
    if before not in known_revisions():
        raise SchemaError(
            f"the database is at schema revision {before!r}, which this version of duban does "
            f"not know (its newest is {HEAD!r}): a newer duban has upgraded it. Run that "
            "version, or point DUBAN_DATABASE_URL at another database; nothing was changed"
        )
    return before, False


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the migration lock until it commits."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(PG_LOCK_KEY)))
            yield conn
        return
    if engine.dialect.name != "sqlite":
        raise SchemaError(f"duban does not migrate {engine.dialect.name} databases")
    from models.db import WRITER

    with engine.connect() as conn:
        # Rebuilding a table (Alembic's batch mode, SQLite's only ALTER for most changes)
        # wants foreign keys off, which only takes effect outside a transaction; they are
        # checked before the commit instead, and turned on again after.
        raw: Any = conn.connection.dbapi_connection
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            conn.execution_options(**{WRITER: True})  # BEGIN IMMEDIATE: the write lock
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise SchemaError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


# --- duban migrate --------------------------------------------------------------------------


def migrate(url: str | None = None) -> Migrated:
    """`duban migrate`: upgrade the database to head."""
    from models.db import make_engine

    engine = make_engine(url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def print_sql(url: str | None = None, out: TextIO | None = None) -> Migrated:
    """`duban migrate --sql`: write the SQL that would bring the database to head; change
    nothing. Returns where the database is and where the SQL would take it."""
    from alembic import command

    from models.db import make_engine

    engine = make_engine(url)
    try:
        if _missing_sqlite_file(engine):  # connecting would make it
            before, legacy = None, False
        else:
            with engine.connect() as conn:
                before, legacy = _state(conn)
    finally:
        engine.dispose()
    url = engine.url.render_as_string(hide_password=False)
    config = alembic_config(url=url, out=out or sys.stdout)
    start = before
    if legacy:
        command.stamp(config, PREVIOUS_RELEASE, sql=True)
        start = PREVIOUS_RELEASE
    if start != HEAD:
        command.upgrade(config, f"{start}:head" if start else "head", sql=True)
    return Migrated(before=before, unversioned_tables=legacy, after=HEAD)


def _missing_sqlite_file(engine: Engine) -> bool:
    path = engine.url.database
    return engine.dialect.name == "sqlite" and bool(path) and not Path(path or "").exists()


# --- Alembic ---------------------------------------------------------------------------------


def alembic_config(
    connection: Connection | None = None, url: str | None = None, out: TextIO | None = None
) -> Config:
    """Alembic's configuration, made here rather than read from an alembic.ini: env.py runs
    on `connection` if given, else (the command line) on its own locked connection to `url`
    (default: the configured database); offline (`--sql`) it needs only `url`."""
    from alembic.config import Config

    config = Config(output_buffer=out, stdout=out or sys.stdout)
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(HERE))
    return {s.revision for s in script.walk_revisions()}


def schema_diff(conn: Connection) -> list[Any]:
    """What autogenerate (`alembic check`) finds between the database and the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts=OPTIONS)
    return list(compare_metadata(context, SQLModel.metadata))
