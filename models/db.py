"""The engine: one per database URL per process, SQLite tuned for a single busy writer; the
schema is brought to the newest migration when a process first makes it."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from config.private_files import private_database_file
from config.settings import get_settings
from models import migrations

_engines: dict[str, Engine] = {}
_lock = threading.Lock()

# How long a statement waits for a lock another transaction holds before it fails: SQLite's
# busy timeout, PostgreSQL's lock_timeout (and the wait for a connection to open). A flow or a
# command is a batch that nobody watches: a launch queued behind another launch's write lock
# should finish, not fail a whole pass, so it waits long (on PostgreSQL, as long as it takes).
# A web request has a person in front of it: past a few seconds they need to hear that the
# system is busy (`web.unavailable`), not stare at a page that loads for half a minute.
BATCH_LOCK_WAIT_S = 30
REQUEST_LOCK_WAIT_S = 5
_request_waits = False


def serve_requests() -> None:
    """Make this process's statements wait at most `REQUEST_LOCK_WAIT_S` for a lock: the web
    server calls this before it answers anyone. Engines made before are closed and forgotten,
    so the next `get_engine` makes one with the short wait."""
    global _request_waits
    _request_waits = True
    dispose_engines()


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (psycopg2 is not a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url`, default the configured database. The first use in a process
    migrates the schema to the newest revision (`models.migrations.upgrade_on_start`): one
    query when it is there already; `SchemaError` if the database is newer than this code."""
    url = normalise_url(url or get_settings().resolved_database_url())
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _create(url)
    return engine


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests switch databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create(url: str) -> Engine:
    engine = make_engine(url)
    try:
        migrations.upgrade_on_start(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def make_engine(url: str | None = None) -> Engine:
    """A new engine for `url` (default: the configured database), leaving its schema alone:
    for migrating it. Everything else uses `get_engine`."""
    url = normalise_url(url or get_settings().resolved_database_url())
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            private_database_file(Path(path))
        wait = REQUEST_LOCK_WAIT_S if _request_waits else BATCH_LOCK_WAIT_S
        engine = create_engine(url, connect_args={"timeout": wait, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        # duban writes only through `engine.begin()`; `engine.connect()` only ever reads.
        writers = functools.partial(_sqlite_writer, engine, threading.RLock(), wait)
        engine.begin = writers  # type: ignore[method-assign]
    else:
        waits: dict[str, Any] = {}
        if _request_waits:
            waits = {
                "connect_timeout": REQUEST_LOCK_WAIT_S,
                "options": f"-c lock_timeout={REQUEST_LOCK_WAIT_S * 1000}",
            }
        engine = create_engine(
            url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=waits
        )
    return engine


WRITER = "duban_writer"


@contextmanager
def _sqlite_writer(engine: Engine, turn: threading.RLock, wait: float) -> Iterator[Connection]:
    """`engine.begin()` on SQLite: the same, with the transaction marked as a writer's, and
    the threads of this process taking turns on a lock of their own first. SQLite has one
    writer at a time; threads left to its busy handler sleep in steps of up to 100 ms and
    miss the moment the lock frees: eight senders claiming one message each spent most of a
    launch asleep there. Other processes still queue on the busy timeout."""
    if not turn.acquire(timeout=wait):
        raise OperationalError(
            "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
        )
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITER: True})
            with conn.begin():
                yield conn
    finally:
        turn.release()


def _sqlite_begin(conn: Connection) -> None:
    # A writer's transaction takes the write lock at BEGIN: a deferred transaction that reads,
    # then writes after another process committed, fails at once with "database is locked"
    # (WAL cannot upgrade a stale snapshot); BEGIN IMMEDIATE makes concurrent launches queue
    # on the busy timeout instead. A reader's takes no lock: under WAL it reads its snapshot
    # while a writer writes. (Readers holding the write lock made every dashboard page and
    # link page queue behind each other and behind submissions, in SQLite's sleeping busy
    # handler: seconds at the 95th percentile under load.)
    writer = conn.get_execution_options().get(WRITER, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (the dashboard, `status`) work while a launch writes; NORMAL sync is
    # safe under WAL and keeps commits cheap.
    # The driver's own transaction handling is off so that `_sqlite_begin` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
