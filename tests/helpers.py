"""Helpers every kind of test uses: the `duban` command as a real process, the county's clock,
and a unit sending in its summary through its link."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from config.clock import parse_instant
from models.db import get_engine
from tasks.link.policy import Limits
from tasks.link.submission import Upload, find_unit, submit
from tasks.messages.tokens import derive_token, secret_key
from tests.files import png_bytes

TZ = "Asia/Shanghai"


def at(local_time: str) -> datetime:
    """An instant written as the county's local time."""
    return parse_instant(local_time, TZ)


# Runs the command it is given and prints the peak RSS of its children, in KiB. A fresh small
# interpreter: on Linux a child's `ru_maxrss` starts at its parent's size (it is kept across
# fork and exec), so a child of the test process itself would start at the test's size.
PEAK_LAUNCHER = """
import resource, subprocess, sys
with open(sys.argv[1], "w") as err:
    code = subprocess.run(sys.argv[2:], stderr=err).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def duban(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`duban …` in a new process with the test's environment, pointed at the test session's
    Prefect server (a test that runs one carries `pytest.mark.prefect`)."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=_duban_env(env_extra),
        timeout=300,
    )


def duban_peak(*args: str, stderr: Path) -> tuple[int, int]:
    """`duban …` as `duban` runs it, its error output written to `stderr`; returns its exit
    code and its peak RSS in MiB."""
    run = subprocess.run(
        [sys.executable, "-c", PEAK_LAUNCHER, str(stderr), sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=_duban_env(None),
        timeout=300,
    )
    return run.returncode, int(run.stdout.strip().splitlines()[-1]) // 1024


def _duban_env(env_extra: dict[str, str] | None) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ)
    api = PREFECT_API_URL.value()
    if api:  # the session's server instead of one started per command
        env["PREFECT_API_URL"] = str(api)
    env.update(env_extra or {})
    return env


def token_of(code: str) -> str:
    """The link token of the unit `code`, derived as the notice did."""
    with get_engine().connect() as conn:
        salt = conn.execute(
            text(
                "SELECT t.salt FROM linktoken t JOIN assignment a ON a.id = t.assignment_id "
                "JOIN department d ON d.id = a.department_id WHERE d.code = :c"
            ),
            {"c": code},
        ).scalar_one()
    return derive_token(secret_key(), salt)


def send_in(code: str, summary: str, when: str, picture: bool = False) -> None:
    """The unit `code` submits `summary` (with a photo if `picture`) at local time `when`."""
    files = []
    if picture:
        data = png_bytes(32, 24)
        files = [Upload(f"{code}.png", data[:2048], len(data), io.BytesIO(data))]
    unit = find_unit(token_of(code))
    submit(unit, secrets.token_hex(8), summary, files, Limits.from_settings(), at(when))
