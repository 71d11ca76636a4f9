"""The environment a benchmark runs duban in: its own database and data folder in a scratch
folder, a fresh secret key, no telemetry, and nothing of the caller's that would change what
is measured (a fixed clock, a mail relay, a Prefect server)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

_CALLERS_OWN = ("DUBAN_NOW", "DUBAN_SMTP_URL", "PREFECT_API_URL")


def bench_environment(work: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """`os.environ` for a run in `work` (SQLite at work/bench.db unless a URL is given)."""
    env = {name: value for name, value in os.environ.items() if name not in _CALLERS_OWN}
    env.update(
        DUBAN_DATABASE_URL=database_url or f"sqlite:///{work / 'bench.db'}",
        DUBAN_DATA_DIR=str(work / "data"),
        DUBAN_SECRET_KEY=secrets.token_hex(32),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        **extra,
    )
    return env


def use_bench_environment(work: Path, database_url: str | None = None, **extra: str) -> str:
    """This process switched to `bench_environment`; returns its database URL."""
    env = bench_environment(work, database_url, **extra)
    os.environ.clear()
    os.environ.update(env)
    return env["DUBAN_DATABASE_URL"]
