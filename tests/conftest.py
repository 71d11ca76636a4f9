"""Real parts for tests: a SQLite file or the PostgreSQL named by `DUBAN_TEST_DATABASE_URL`,
already migrated; an SMTP server on loopback; an HTTP receiver for webhook channels; and, for
tests that run flows, an in-process Prefect server.

Markers (declared in `pytest_configure`):
- `prefect`: the test runs a flow (directly or through a `duban` command); the Prefect
  harness starts once, for the first such test. Other tests never wait for it.
- `pure`: the test reads no database (it gets the environment, no migrated copy).
- `empty_database`: the test starts from a database with no tables (the migration tests).
"""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import get_settings
from models.db import dispose_engines
from tests.database import PostgresReset, copy_sqlite, migrated_sqlite_file
from tests.receivers import AliyunSmsReceiver, HttpReceiver, SmtpReceiver


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`test_gw0`, …), made
    beside the one named, so workers never empty each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine, make_url, text

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if found.first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


TEST_DATABASE_URL = _worker_database(os.environ.get("DUBAN_TEST_DATABASE_URL"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "prefect: the test runs flows (Prefect's test harness)")
    config.addinivalue_line("markers", "pure: the test needs no database")
    config.addinivalue_line("markers", "empty_database: the test starts with no tables at all")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test gets a copy."""
    return migrated_sqlite_file(tmp_path_factory.mktemp("template") / "duban.db")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresReset]:
    assert TEST_DATABASE_URL
    reset = PostgresReset(TEST_DATABASE_URL)
    yield reset
    reset.close()


@pytest.fixture(autouse=True)
def duban_env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """A fresh data folder and a freshly migrated, empty database for every test."""
    marked = request.node.get_closest_marker
    if marked("prefect"):
        request.getfixturevalue("prefect_harness")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DUBAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DUBAN_PUBLIC_URL", "http://duban.test")
    monkeypatch.delenv("DUBAN_SMTP_URL", raising=False)
    monkeypatch.delenv("DUBAN_NOW", raising=False)
    monkeypatch.delenv("DUBAN_SECRET_KEY", raising=False)
    # Beside the test's own folder, not in it: tests check that a command wrote nothing there.
    sqlite_file = tmp_path_factory.mktemp("database") / "duban.db"
    url = TEST_DATABASE_URL or f"sqlite:///{sqlite_file}"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    get_settings.cache_clear()
    dispose_engines()
    empty = marked("empty_database") is not None
    if marked("pure"):
        pass  # no database is made; one the test reached for anyway would be migrated on use
    elif TEST_DATABASE_URL:
        postgres: PostgresReset = request.getfixturevalue("postgres")
        if empty:
            postgres.drop()
        else:
            postgres.fresh()
    elif not empty:
        copy_sqlite(request.getfixturevalue("sqlite_template"), sqlite_file)
    yield data_dir
    dispose_engines()
    get_settings.cache_clear()
    if empty and TEST_DATABASE_URL:
        postgres.forget_schema()  # the test may have left any schema behind


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def aliyun_sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[AliyunSmsReceiver]:
    """SMS numbers go to the imitation of Aliyun's API, with its test AccessKey."""
    receiver = AliyunSmsReceiver()
    receiver.start()
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ACCESS_KEY_ID", receiver.KEY_ID)
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ACCESS_KEY_SECRET", receiver.SECRET)
    get_settings.cache_clear()
    yield receiver
    receiver.stop()


@pytest.fixture
def relay(smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch) -> SmtpReceiver:
    """Every e-mail address of the campaign goes through the test SMTP server, from this
    process and from any `duban` process it starts."""
    monkeypatch.setenv("DUBAN_SMTP_URL", smtp.relay_url())
    get_settings.cache_clear()
    return smtp
