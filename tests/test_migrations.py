"""Schema migrations: an empty database gets every revision, a database of the release before
migrations is stamped and upgraded with its rows kept, a database newer than the code is left
alone, and processes starting together migrate once. On SQLite, and on PostgreSQL when
`DUBAN_TEST_DATABASE_URL` is set (the suite's every other test also starts from an empty
database and goes through the migrations)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, String, Table, event, inspect, text, update

from config.clock import parse_instant
from config.settings import get_settings
from flows.launch import launch_flow
from flows.report import report_flow
from models import migrations
from models.db import dispose_engines, get_engine, make_engine
from models.migrations import HEAD, PREVIOUS_RELEASE, SchemaError, alembic_config
from tests.campaigns import DATIAN, LAUNCH_DAY, snapshot
from tests.campaigns import DATIAN_SLUG as SLUG
from tests.database import drop_every_table
from tests.helpers import at, duban, send_in

# Every test here starts from a database with no tables and migrates it itself.
pytestmark = [pytest.mark.prefect, pytest.mark.empty_database]

RELEASE = "25e987f"  # the release before migrations: its create_all made the schema
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
OLD_TABLES = [
    "campaign",
    "department",
    "assignment",
    "linktoken",
    "notification",
    "submission",
    "attachment",
    "coordinator",
]


def _url() -> str:
    return get_settings().resolved_database_url()


def _release_schema(url: str) -> None:
    """The database as release 25e987f's `create_all` made it: its DDL, stored per dialect."""
    engine = make_engine(url)
    try:
        ddl = FIXTURES / f"schema-{RELEASE}.{engine.dialect.name}.sql"
        lines = ddl.read_text(encoding="utf-8").splitlines(keepends=True)
        script = "".join(line for line in lines if not line.startswith("--"))
        with engine.begin() as conn:
            for statement in filter(None, (s.strip() for s in script.split(";\n"))):
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _schema(url: str) -> dict[str, Any]:
    """What the database holds, table by table, as reflection sees it."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            schema: dict[str, Any] = {}
            for name in sorted(inspector.get_table_names()):
                schema[name] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(name)
                    ],
                    "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
                    "unique": sorted(
                        (u["name"] or "", tuple(u["column_names"]))
                        for u in inspector.get_unique_constraints(name)
                    ),
                    "indexes": sorted(
                        (i["name"] or "", tuple(map(str, i["column_names"])), bool(i["unique"]))
                        for i in inspector.get_indexes(name)
                    ),
                    "foreign keys": sorted(
                        (tuple(f["constrained_columns"]), f["referred_table"])
                        for f in inspector.get_foreign_keys(name)
                    ),
                }
            if "alembic_version" in schema:
                rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                schema["alembic_version"]["rows"] = sorted(rows)
            return schema
    finally:
        engine.dispose()


def _revision_and_diff(url: str) -> tuple[str | None, list[Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return migrations.current_revision(conn), migrations.schema_diff(conn)
    finally:
        engine.dispose()


def _version_table() -> Table:
    return Table("alembic_version", MetaData(), Column("version_num", String(32)))


def test_head_is_the_newest_revision_of_one_line_from_the_previous_release() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]
    chain = [s.revision for s in script.walk_revisions()]
    assert chain[-1] == PREVIOUS_RELEASE and chain[0] == HEAD
    assert sorted(chain) == [f"{n:04d}" for n in range(1, len(chain) + 1)]


def test_an_empty_database_gets_every_revision_and_then_matches_the_models() -> None:
    assert "campaign" not in _schema(_url())

    get_engine()

    revision, diff = _revision_and_diff(_url())
    assert revision == HEAD
    assert diff == []  # `alembic check`: nothing between the database and SQLModel.metadata


def test_revision_0001_is_the_schema_the_previous_release_made() -> None:
    url = _url()
    _release_schema(url)
    made_by_release = _schema(url)
    drop_every_table(url)

    engine = make_engine(url)
    try:
        with migrations.locked(engine) as conn:
            command.upgrade(alembic_config(connection=conn), PREVIOUS_RELEASE)
    finally:
        engine.dispose()

    made_by_0001 = _schema(url)
    assert made_by_0001.pop("alembic_version")["rows"] == [PREVIOUS_RELEASE]
    assert made_by_0001 == made_by_release
    assert sorted(made_by_release) == sorted(OLD_TABLES)


def test_a_database_of_the_previous_release_is_stamped_upgraded_and_keeps_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url()
    _release_schema(url)
    with monkeypatch.context() as held_back:
        # The campaign is launched into the release's tables (the launch writes only tables
        # that release had); the engine leaves the schema alone. A unit's summary is written
        # as that release wrote it: today's code reads columns added since (a headline).
        held_back.setattr(migrations, "upgrade_on_start", lambda engine: None)
        launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
        with get_engine().begin() as conn:
            unit = conn.execute(
                text(
                    "SELECT a.id FROM assignment a JOIN department d ON d.id = a.department_id"
                    " WHERE d.code = 'scjgj'"
                )
            ).scalar_one()
            conn.execute(
                text(
                    "UPDATE assignment SET status = 'submitted', settled = true,"
                    " first_submitted_at = :at, submitted_at = :at WHERE id = :unit"
                ),
                {"unit": unit, "at": at("2021-09-24T16:00")},
            )
            submission = conn.execute(
                text(
                    "INSERT INTO submission (assignment_id, version, form_key, summary,"
                    " created_at, late) VALUES (:unit, 1, 'release', :summary, :at, false)"
                    " RETURNING id"
                ),
                {
                    "unit": unit,
                    "summary": "县市场监管局开展了质量月活动。",
                    "at": at("2021-09-24T16:00"),
                },
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO attachment (submission_id, name, kind, size, sha256, relpath)"
                    " VALUES (:s, '方案.pdf', 'document', 3, :sha, 'gone/方案.pdf')"
                ),
                {"s": submission, "sha": "0" * 64},
            )
        rows = snapshot()
        dispose_engines()
    assert {t: len(r) for t, r in rows.items()} == {
        "campaign": 1,
        "department": 18,
        "assignment": 18,
        "linktoken": 18,
        "notification": 18,
        "submission": 1,
        "attachment": 1,
        "coordinator": 0,
    }
    assert "alembic_version" not in _schema(url)

    get_engine()  # the first use in a process: stamped 0001, then upgraded

    revision, diff = _revision_and_diff(url)
    assert revision == HEAD and diff == []
    after = snapshot()
    assert {t: after[t] for t in rows if t != "submission"} == {
        t: r for t, r in rows.items() if t != "submission"
    }
    # The summary as it was, and the column added since (its headline) empty.
    (before,) = rows["submission"]
    (upgraded,) = after["submission"]
    assert upgraded[: len(before)] == before and upgraded[len(before) :] == ("None",)
    assert after["campaignreport"] == after["reportdelivery"] == []
    # The product works on it: a report is made and recorded in the new tables, a unit
    # submits, and `duban status` reads it.
    summary = report_flow(slug=SLUG, now=at("2021-09-28T10:00"))
    assert summary.sent is not None and summary.sent.sent == summary.sent.channels >= 1
    send_in("gaj", "县公安局的总结。", "2021-09-29T10:00")
    with get_engine().connect() as conn:
        reports = conn.execute(text("SELECT count(*) FROM campaignreport")).scalar_one()
        deliveries = conn.execute(text("SELECT count(*) FROM reportdelivery")).scalar_one()
    assert reports == 1 and deliveries == summary.sent.channels
    status = duban("status", SLUG, "--json", "--now", "2021-09-29T12:00+08:00")
    assert status.returncode == 0, status.stderr
    assert status.stdout.count('"code"') == 18 and "scjgj" in status.stdout


def test_a_failed_upgrade_changes_nothing() -> None:
    url = _url()
    _release_schema(url)
    # Someone made a table of the same name by hand: 0002 cannot create it.
    engine = make_engine(url)
    with engine.begin() as conn:
        Table("campaignreport", MetaData(), Column("id", Integer, primary_key=True)).create(conn)
    engine.dispose()
    before = _schema(url)

    with pytest.raises(Exception, match="campaignreport"):
        get_engine()

    assert _schema(url) == before  # not even stamped: one transaction


def test_a_database_newer_than_the_code_is_refused_by_name_and_left_alone() -> None:
    url = _url()
    get_engine()
    with get_engine().begin() as conn:
        # As a later duban would leave it: a revision this one does not know, a new table.
        conn.execute(update(_version_table()).values(version_num="0099"))
        Table("futurething", MetaData(), Column("id", Integer, primary_key=True)).create(conn)
    dispose_engines()
    before = _schema(url)

    with pytest.raises(SchemaError, match="'0099'"):
        get_engine()
    for args in (["status", SLUG], ["migrate"], ["migrate", "--sql"]):
        run = duban(*args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert "schema revision '0099'" in run.stderr and "Traceback" not in run.stderr

    assert _schema(url) == before


def test_duban_migrate_says_where_the_schema_was_and_is(tmp_path: Path) -> None:
    url = _url()
    dry = duban("migrate", "--sql")  # an empty database: every revision, written out only
    assert dry.returncode == 0, dry.stderr
    assert "CREATE TABLE campaign " in dry.stdout and "CREATE TABLE reportdelivery" in dry.stdout
    assert dry.stdout.count("BEGIN;") == 1 and "COMMIT;" in dry.stdout
    assert "-- schema before: none: an empty database; after this SQL: " + HEAD in dry.stdout
    assert _schema(url) == {}

    _release_schema(url)
    dry = duban("migrate", "--sql")
    assert dry.returncode == 0, dry.stderr
    assert "CREATE TABLE campaign " not in dry.stdout
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in dry.stdout
    assert "CREATE TABLE campaignreport" in dry.stdout
    assert "alembic_version" not in _schema(url)

    first = duban("migrate")
    assert first.returncode == 0, first.stderr
    assert "schema before: none: tables of the release before migrations (stamped 0001)" in (
        first.stdout
    )
    assert f"schema after:  {HEAD}\n" in first.stdout
    assert _revision_and_diff(url) == (HEAD, [])

    again = duban("migrate")
    assert again.returncode == 0, again.stderr
    assert f"schema before: {HEAD}\nschema after:  {HEAD} (unchanged)" in again.stdout


STARTER = """
import logging, sys, time
from pathlib import Path

import alembic.command  # loaded before the start, so that the processes meet at the lock

from models.db import get_engine

logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
Path(sys.argv[2]).touch()
while not Path(sys.argv[1]).exists():
    time.sleep(0.002)
get_engine()
"""


def test_processes_starting_together_on_an_empty_database_migrate_it_once(
    tmp_path: Path,
) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, str(go), str(tmp_path / f"ready{i}")],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready{i}").exists() for i in range(3)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in starters)
        time.sleep(0.01)
    go.touch()
    results = [p.communicate(timeout=120) for p in starters]

    assert [p.returncode for p in starters] == [0, 0, 0], results
    upgraded = [err for _, err in results if "database schema upgraded" in err]
    assert len(upgraded) == 1, results
    assert f"from none: an empty database to {HEAD}" in upgraded[0]
    schema = _schema(_url())
    assert schema.pop("alembic_version")["rows"] == [HEAD]
    assert _revision_and_diff(_url()) == (HEAD, [])


def test_start_up_at_head_is_one_query_without_alembic() -> None:
    get_engine()
    dispose_engines()
    engine = make_engine(_url())
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    try:
        assert migrations.upgrade_on_start(engine) is None
    finally:
        engine.dispose()
    queries = [s for s in statements if not s.upper().startswith(("BEGIN", "PRAGMA"))]
    assert len(queries) == 1 and "alembic_version" in queries[0]

    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from models.db import get_engine; get_engine(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "[]"
