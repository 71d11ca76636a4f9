"""When the database or the disk cannot take a write, against a real `duban web` process: another
program holds the database's lock, the attachments' disk or the database's disk is full. The
department and the coordinator get a page in Chinese with 503 and Retry-After within seconds,
nothing is half-stored (tables and the attachments folder are checked), and the same form goes
through once the lock is gone. A defect still answers 500."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy import exc as sa
from sqlmodel import SQLModel

from config.settings import get_settings
from models.db import dispose_engines
from models.faults import transient
from tests.campaigns import snapshot
from tests.receivers import SmtpReceiver, free_port
from tests.web_helpers import (
    JPEG,
    SERVER_NOW,
    Dashboard,
    Department,
    coordinator_account,
    execute,
    launch_units,
    stored_files,
    unit_status,
)
from tests.web_server import web_server

pytestmark = pytest.mark.prefect

MIB = 1024 * 1024
# A web request waits 5 s for a lock (`models.db.REQUEST_LOCK_WAIT_S`); the answer must come
# well before the 30 s a batch waits.
PROMPT_S = 12


def database() -> str:
    return get_settings().resolved_database_url()


def on_sqlite() -> bool:
    return database().startswith("sqlite")


@contextmanager
def writes_locked() -> Iterator[None]:
    """Another program holds the write lock and keeps it: `sqlite3 duban.db` then `BEGIN
    IMMEDIATE;`, or on PostgreSQL a transaction holding every table in EXCLUSIVE mode. Reads
    go on; every write waits."""
    if on_sqlite():
        conn = sqlite3.connect(database().split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with psycopg.connect(database()) as conn:
        conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        yield
        conn.rollback()


@contextmanager
def all_locked() -> Iterator[None]:
    """Another program holds the database so that not even a read gets through: SQLite in
    exclusive locking mode (no other connection may be open when it takes the lock: start it
    before the web server's first query), PostgreSQL's ACCESS EXCLUSIVE table lock."""
    dispose_engines()  # this test's own pooled connections would keep SQLite from locking
    if on_sqlite():
        conn = sqlite3.connect(database().split("///", 1)[1], isolation_level=None)
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("UPDATE alembic_version SET version_num = version_num")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    with psycopg.connect(database()) as conn:
        conn.execute("LOCK TABLE linktoken IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def busy(answer: httpx.Response, took: float, *, reading: bool = False) -> None:
    """The answer a person should get: the Chinese page saying to try again and what was
    kept, 503 with Retry-After, no trace of the error, and soon."""
    assert answer.status_code == 503, (answer.status_code, answer.text[:500])
    assert answer.headers["retry-after"].isdigit()
    assert "<h1>系统繁忙</h1>" in answer.text
    if reading:
        assert "请稍后刷新本页" in answer.text
    else:
        assert "系统暂时无法保存，请稍后再试" in answer.text
        assert "本次提交的内容未被保存" in answer.text
    for word in ("Traceback", "Internal Server Error", "OperationalError", "locked", 'File "/'):
        assert word not in answer.text, answer.text[:2000]
    assert took < PROMPT_S, took


def timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = call()  # type: ignore[operator]
    return answer, time.monotonic() - started


def test_a_locked_database_answers_503_within_seconds_and_keeps_nothing(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    coordinator_account()
    log = tmp_path / "web.log"
    with web_server(log, DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        office = Dashboard(base)
        for client in (a.client, office.client):
            client.timeout = httpx.Timeout(60)  # time a slow answer rather than give up on it
        assert a.submit("初稿。").is_redirect  # a version for the coordinator to act on
        key = a.form_key()
        page = office.unit("a")
        before, mails = snapshot(), len(smtp.mails)
        summary = "本单位质量月活动总结：共开展宣传三次。"
        with writes_locked():
            answer, took = timed(lambda: a.submit(summary, [("现场.jpg", JPEG)], form_key=key))
            print(f"\nlocked database: submission answered {answer.status_code} in {took:.1f} s")
            busy(answer, took)
            assert summary in answer.text  # given back, since it was not kept
            # The file was written before the database refused: it is gone already.
            assert stored_files(duban_env) == []
            answer, took = timed(a.acknowledge)
            print(f"locked database: 签收 answered {answer.status_code} in {took:.1f} s")
            busy(answer, took)
            for action, fields in (
                ("accept", {}),
                ("return", {"comment": "请补充照片。"}),
                ("extend", {"due": "2021-10-15"}),
                ("resend", {}),
                ("reassign", {"notify": "new@county.test", "person": "李四", "phone": "1"}),
            ):
                answer, took = timed(lambda: office.act("a", action, page=page, **fields))  # noqa: B023
                print(f"locked database: {action} answered {answer.status_code} in {took:.1f} s")
                busy(answer, took)
            assert snapshot() == before
        assert snapshot() == before
        assert stored_files(duban_env) == []
        assert len(smtp.mails) == mails  # no message was planned, so none goes out

        # The lock is gone: the same form goes through, once.
        assert a.submit(summary, [("现场.jpg", JPEG)], form_key=key).is_redirect
        assert a.submit(summary, [("现场.jpg", JPEG)], form_key=key).is_redirect
        assert unit_status("a") == "submitted"
        assert len(stored_files(duban_env)) == 1
        assert a.acknowledge().is_redirect
        assert office.act("a", "extend", page=page, due="2021-10-15").is_redirect
        assert office.act("a", "accept").is_redirect
    # The operator learns why, in one line per answer, without the department's key.
    told = [line for line in log.read_text().splitlines() if "503 for" in line]
    assert len(told) == 7, told
    assert "POST /d/{token}" in told[0] and tokens["a"] not in log.read_text()
    assert all(("database is locked" if on_sqlite() else "LockNotAvailable") in t for t in told)


def test_a_page_that_cannot_be_read_answers_503_and_comes_back(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        a.client.timeout = httpx.Timeout(60)
        with all_locked():
            answer, took = timed(a.page)
            print(f"\nunreadable database: link page answered {answer.status_code} in {took:.1f} s")
            busy(answer, took, reading=True)
        assert a.page().status_code == 200


def test_a_defect_is_still_a_500_and_is_logged(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    """A table that is not there is the code's (or the operator's) fault, not a passing one:
    no "try again later" that would never come true."""
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    log = tmp_path / "web.log"
    with web_server(log, DUBAN_NOW=SERVER_NOW) as base:
        a = Department(base, tokens["a"])
        assert a.page().status_code == 200
        execute("ALTER TABLE submission RENAME TO submission_gone")
        try:
            answer = a.page()
        finally:
            execute("ALTER TABLE submission_gone RENAME TO submission")
        assert answer.status_code == 500
        assert "系统繁忙" not in answer.text
    assert "Traceback" in log.read_text() and "submission" in log.read_text()


# --- a full disk -------------------------------------------------------------------------------


@contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where`: a disk that really fills up (ENOSPC, and SQLite's
    "database or disk is full"). Mounting needs root, as on the CI machine."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    """Fill `disk` to the last byte with one file; removing it frees the disk again."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # ENOSPC: full
    finally:
        os.close(fd)
    return filler


def test_a_full_attachments_disk_answers_503_and_leaves_no_part(
    tmp_path: Path, smtp: SmtpReceiver, duban_env: Path
) -> None:
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    big = JPEG + b"\0" * (3 * MIB)
    log = tmp_path / "web.log"
    with (
        small_disk(duban_env / "attachments", "2m"),
        web_server(log, DUBAN_NOW=SERVER_NOW) as base,
    ):
        a = Department(base, tokens["a"])
        before = snapshot()
        answer, took = timed(lambda: a.submit("总结。", [("小.jpg", JPEG), ("大.jpg", big)]))
        print(f"\nfull disk: submission answered {answer.status_code} in {took:.1f} s")
        busy(answer, took)
        assert snapshot() == before
        assert stored_files(duban_env) == []  # neither the first file nor the part of the second
        # With room again (a smaller file fits), the department's next try goes through.
        assert a.submit("总结。", [("小.jpg", JPEG)]).is_redirect
        assert len(stored_files(duban_env)) == 1
    assert "No space left on device" in log.read_text()


def test_a_full_database_disk_answers_503_and_recovers(
    tmp_path: Path, smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not on_sqlite():
        pytest.skip("the PostgreSQL server's disk is not this test's to fill")
    _, tokens = launch_units(tmp_path, smtp, ["a"])
    dispose_engines()
    source = Path(database().split("///", 1)[1])
    with small_disk(tmp_path / "dbdisk", "4m") as disk:
        moved = disk / "duban.db"
        moved.write_bytes(source.read_bytes())
        monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite:///{moved}")
        get_settings.cache_clear()
        env = {"DUBAN_DATABASE_URL": f"sqlite:///{moved}", "DUBAN_NOW": SERVER_NOW}
        log = tmp_path / "web.log"
        with web_server(log, **env) as base:
            a = Department(base, tokens["a"])
            assert a.page().status_code == 200  # the server has the database open
            before = snapshot()
            filler = fill(disk)
            answer, took = timed(a.acknowledge)
            print(f"\nfull database disk: 签收 answered {answer.status_code} in {took:.1f} s")
            busy(answer, took)
            filler.unlink()
            assert snapshot() == before
            assert a.acknowledge().is_redirect
            assert unit_status("a") == "acknowledged"
        dispose_engines()
    assert "database or disk is full" in log.read_text()


# --- which failures pass -----------------------------------------------------------------------


def test_a_database_server_that_is_down_answers_503_at_once(tmp_path: Path) -> None:
    """Nothing listens where the database should be (PostgreSQL stopped, restarting): every
    page and form says to try again, at once."""
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/duban"
    log = tmp_path / "web.log"
    with web_server(log, DUBAN_DATABASE_URL=down) as base:
        link = f"{base}/d/{'x' * 43}"
        answer, took = timed(lambda: httpx.get(link, timeout=60))
        print(f"\ndatabase down: link page answered {answer.status_code} in {took:.1f} s")
        busy(answer, took, reading=True)
        answer, took = timed(lambda: httpx.post(link, data={"action": "acknowledge"}, timeout=60))
        busy(answer, took)
    assert "Connection refused" in log.read_text() or "connection failed" in log.read_text()


def test_only_passing_failures_are_called_so(tmp_path: Path) -> None:
    """Real errors of each kind, classified by code and errno, never by wording."""
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    with pytest.raises(sa.OperationalError) as locked, waiter.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with pytest.raises(sa.OperationalError) as no_table, waiter.connect() as conn:
        conn.exec_driver_sql("SELECT * FROM missing")
    with pytest.raises(sa.OperationalError) as bad_sql, waiter.connect() as conn:
        conn.exec_driver_sql("SELEC 1")
    waiter.dispose()
    holder.close()
    assert transient(locked.value)
    assert not transient(no_table.value) and not transient(bad_sql.value)

    refused = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    with pytest.raises(sa.OperationalError) as down:
        refused.connect()
    assert transient(down.value)

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert transient(full) and transient(OSError(errno.EDQUOT, "quota"))
    assert not transient(PermissionError(errno.EACCES, "denied"))
    assert not transient(FileNotFoundError(errno.ENOENT, "gone"))
    assert not transient(ValueError("a bug"))
