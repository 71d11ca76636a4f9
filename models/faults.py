"""Which failures belong to the machine rather than to the code: the database busy, locked,
unreachable or full, the disk full. Such a failure passes, so the answer to a person is "try
again later"; any other failure is a defect, and stays one (logged, answered as an error).

The rule is read from what the database itself reports (SQLite's result code, PostgreSQL's
SQLSTATE) and from the errno of a file write, never from the wording of a message.
"""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy import exc as sa

# SQLite's primary result codes (the low byte of an extended code such as SQLITE_IOERR_WRITE)
# that a moment later may not repeat: another connection holds the lock, memory or disk ran
# out, the disk failed to read or write. SQLITE_ERROR ("no such table", a syntax error) and
# SQLITE_CANTOPEN (a wrong path or rights: the operator's to fix) are not among them.
SQLITE_TRANSIENT = {
    5,  # SQLITE_BUSY: "database is locked", past the busy timeout
    6,  # SQLITE_LOCKED: a table locked within this process
    7,  # SQLITE_NOMEM
    10,  # SQLITE_IOERR: "disk I/O error"
    13,  # SQLITE_FULL: "database or disk is full"
    15,  # SQLITE_PROTOCOL: a lock race in WAL
}

# PostgreSQL SQLSTATEs (class, or full code) of the same kind.
PG_TRANSIENT_CLASSES = {
    "08",  # connection exception: refused, lost
    "53",  # insufficient resources: disk full ("could not extend file"), out of memory,
    # too many connections
    "58",  # system error: I/O error
}
PG_TRANSIENT_CODES = {
    "55P03",  # lock_not_available: lock_timeout passed (see `models.db`)
    "57014",  # query_canceled: statement_timeout passed
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now: starting up or in recovery
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
}

# A write that found no room: the disk, or the service account's quota, is full.
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def transient(exc: BaseException) -> bool:
    """True when `exc` says the database or the disk cannot serve now, not that the code is
    wrong: retrying later, with nothing changed, can succeed."""
    if isinstance(exc, sa.TimeoutError):
        return True  # every pooled connection busy: the database is overloaded
    if isinstance(exc, sa.DBAPIError):
        if exc.connection_invalidated:
            return True  # SQLAlchemy saw the connection drop
        return _driver_transient(exc.orig)
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    return False


def _driver_transient(orig: BaseException | None) -> bool:
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_TRANSIENT
    if orig is None or not type(orig).__module__.startswith("psycopg"):
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is None:
        # psycopg leaves SQLSTATE empty only when the server never answered: the connection
        # failed (refused, no route, timed out) or was lost. Every error of the server's own
        # carries one.
        return type(orig).__name__ == "OperationalError"
    return sqlstate[:2] in PG_TRANSIENT_CLASSES or sqlstate in PG_TRANSIENT_CODES
