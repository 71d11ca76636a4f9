"""Real parts for every test: a SQLite file or the PostgreSQL named by
`DUBAN_TEST_DATABASE_URL`, an SMTP server on loopback, an HTTP receiver for webhook channels,
and an in-process Prefect server for flow runs."""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, inspect

from config.settings import get_settings
from models.db import dispose_engines, make_engine
from tests.receivers import HttpReceiver, SmtpReceiver

TEST_DATABASE_URL = os.environ.get("DUBAN_TEST_DATABASE_URL")


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(autouse=True)
def duban_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data folder and an empty database for every test."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DUBAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DUBAN_PUBLIC_URL", "http://duban.test")
    monkeypatch.delenv("DUBAN_SMTP_URL", raising=False)
    monkeypatch.delenv("DUBAN_NOW", raising=False)
    monkeypatch.delenv("DUBAN_SECRET_KEY", raising=False)
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'duban.db'}"
    monkeypatch.setenv("DUBAN_DATABASE_URL", url)
    get_settings.cache_clear()
    dispose_engines()
    if TEST_DATABASE_URL:
        drop_every_table(TEST_DATABASE_URL)
    # The schema is made by the migrations, when the test first uses the engine.
    yield data_dir
    dispose_engines()
    get_settings.cache_clear()


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
