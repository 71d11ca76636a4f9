"""What every query module shares: the tables, batched inserts and IN lists that each
database takes, and rows read back in UTC."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    column,
    func,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite

from config.clock import to_utc
from models.tables import (
    Assignment,
    Attachment,
    Campaign,
    CampaignReport,
    Coordinator,
    CoordinatorSession,
    Department,
    LinkToken,
    Notification,
    ReportDelivery,
    ReportNotes,
    SignInFailures,
    Submission,
)

CAMPAIGN: Table = Campaign.__table__  # type: ignore[attr-defined]
DEPARTMENT: Table = Department.__table__  # type: ignore[attr-defined]
ASSIGNMENT: Table = Assignment.__table__  # type: ignore[attr-defined]
TOKEN: Table = LinkToken.__table__  # type: ignore[attr-defined]
NOTIFICATION: Table = Notification.__table__  # type: ignore[attr-defined]
# A message with its unit's assignment and department: where most reads of the ledger start.
MESSAGE_UNIT = NOTIFICATION.join(ASSIGNMENT, ASSIGNMENT.c.id == NOTIFICATION.c.assignment_id).join(
    DEPARTMENT, DEPARTMENT.c.id == ASSIGNMENT.c.department_id
)
SUBMISSION: Table = Submission.__table__  # type: ignore[attr-defined]
ATTACHMENT: Table = Attachment.__table__  # type: ignore[attr-defined]
COORDINATOR: Table = Coordinator.__table__  # type: ignore[attr-defined]
SESSION: Table = CoordinatorSession.__table__  # type: ignore[attr-defined]
SIGN_IN_FAILURES: Table = SignInFailures.__table__  # type: ignore[attr-defined]
REPORT: Table = CampaignReport.__table__  # type: ignore[attr-defined]
REPORT_DELIVERY: Table = ReportDelivery.__table__  # type: ignore[attr-defined]
REPORT_NOTES: Table = ReportNotes.__table__  # type: ignore[attr-defined]


# SQLite allows 32,766 bound variables per statement; stay well below it.
CHUNK = 900


def _insert(conn: Connection, table: Table) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


def _insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose unique key is new; returns how many were new. One statement
    executed for many rows (SQLAlchemy batches them), not a statement built per row."""
    if not rows:
        return 0
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(table.c.id)
    # Counted from RETURNING: psycopg reports rowcount -1 for such batches.
    return len(conn.execute(stmt, rows).all())


def _insert_new_batch(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    constants: dict[str, Any] | None = None,
) -> int:
    """`_insert_new` for the large batches of a launch (see `_batch_insert`). `constants`
    are columns with one value for every row."""
    if not rows:
        return 0
    stmt, params = _batch_insert(conn, table, rows, constants)
    stmt = stmt.on_conflict_do_nothing()
    if isinstance(params, list):  # executemany: psycopg reports rowcount -1 for such batches
        return len(conn.execute(stmt.returning(table.c.id), params).all())
    stmt = stmt.execution_options(preserve_rowcount=True)
    return int(conn.execute(stmt, params).rowcount)


def _batch_insert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    constants: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """An INSERT of a batch and its parameters: `INSERT … SELECT FROM` one JSON document
    when the rows fit (see `_recordset`), else the rows themselves, executemany. Callers add
    their ON CONFLICT and RETURNING."""
    stmt = _insert(conn, table)
    source = _recordset(conn, table, rows, constants)
    if source is None:
        return stmt, [{**(constants or {}), **r} for r in rows]
    names, select_rows, params = source
    return stmt.from_select(names, select_rows), params


def _recordset(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    constants: dict[str, Any] | None = None,
) -> tuple[list[str], Any, dict[str, Any]] | None:
    """A batch of rows as one SELECT over one JSON document, for `INSERT … SELECT`:
    `json_to_recordset` on PostgreSQL, `json_each` on SQLite. A 500-row batch is then a
    short statement with a few parameters, compiled and parsed once per process, and its
    rows are serialised by the json module's C encoder. (As a multi-row VALUES list,
    SQLAlchemy's insertmanyvalues, it is 4,500 parameters: psycopg parsed that statement
    afresh for every batch, which cost more than the database's own work, and SQLAlchemy
    converts every value in Python.) A column with one value for every row is sent once, as
    a parameter of its own. Returns the column names, the SELECT and its parameters; None
    when the rows do not fit (not all alike in their columns, or on SQLite a timestamp that
    differs from row to row, which SQLAlchemy stores in a format of its own)."""
    first = rows[0]
    keys = first.keys()
    if any(r.keys() != keys for r in rows):
        return None
    constants = dict(constants or {})
    for name, value in first.items():
        if name not in constants and all(r[name] == value for r in rows):
            constants[name] = value
    if all(name in constants for name in first):  # one row, or all alike: keep one column
        del constants[next(iter(first))]
    varying = [name for name in first if name not in constants]
    postgres = conn.dialect.name == "postgresql"
    if not postgres and any(isinstance(table.c[n].type, DateTime) for n in varying):
        return None
    names: list[str] = [*constants, *varying]
    params: dict[str, Any] = {}
    exprs: list[Any] = []
    for i, (name, value) in enumerate(constants.items()):
        col = table.c[name]
        params[f"k{i}"] = value
        value_of = bindparam(f"k{i}", type_=col.type)
        # On SQLite a CAST to a column's type would change the value (DATETIME is NUMERIC).
        exprs.append(cast(value_of, col.type) if postgres else value_of)
    params["rows"] = json.dumps(
        [{name: r[name] for name in varying} for r in rows], default=_json_default
    )
    document = bindparam("rows", type_=Text)
    if postgres:
        recordset = (
            func.json_to_recordset(cast(document, JSON))
            .table_valued(*(column(name, table.c[name].type) for name in varying))
            .render_derived(name="u", with_types=True)
        )
        exprs.extend(recordset.c[name] for name in varying)
    else:
        recordset = func.json_each(document).table_valued("value")
        exprs.extend(func.json_extract(recordset.c.value, f"$.{name}") for name in varying)
    # WHERE true: SQLite would read the ON of ON CONFLICT as a join's otherwise.
    return names, select(*exprs).select_from(recordset).where(true()), params


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _in(conn: Connection, col: Any, values: Sequence[int]) -> Iterable[ColumnElement[bool]]:
    """`column IN values` in as few statements as each database takes: one `= ANY(array)`
    on PostgreSQL (one parameter, so one statement text whatever the count); chunks of IN
    lists on SQLite."""
    if conn.dialect.name == "postgresql":
        if values:
            array = postgresql.ARRAY(col.type)
            yield col == any_(cast(bindparam("ids", list(values), type_=array), array))
        return
    for chunk in _chunks(values):
        yield col.in_(chunk)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _utc_rows(result: Any) -> list[dict[str, Any]]:
    """A result's rows as dicts, their times in UTC. Plain tuples zipped with the keys: a
    dashboard page reads hundreds of values, and `dict(RowMapping)` cost more than the query."""
    keys = list(result.keys())
    return [_utc(dict(zip(keys, values, strict=True))) for values in result.all()]


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    return {k: to_utc(v) if isinstance(v, datetime) else v for k, v in row.items()}
