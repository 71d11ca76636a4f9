"""Helpers every kind of test uses: the `duban` command as a real process, the county's clock,
and a unit sending in its summary through its link."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from datetime import datetime

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


def duban(
    *args: str, env_extra: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`duban …` in a new process with the test's environment, pointed at the test session's
    Prefect server (a test that runs one carries `pytest.mark.prefect`)."""
    return _run([sys.executable, "-m", "cli.main", *args], env_extra, timeout)


# Runs `duban` as its only child, then says the child's peak memory in its last stderr line.
_MEASURED = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run([sys.executable, '-m', 'cli.main', *sys.argv[1:]])\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'\\npeak_kb={peak}', file=sys.stderr)\n"
    "sys.exit(done.returncode if done.returncode >= 0 else 128 - done.returncode)\n"
)


def duban_peak(*args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], float]:
    """`duban …` as `duban` runs it, and that process's peak memory (resident, in MB): a
    process of its own waits for it, so no other child of the test counts."""
    done = _run([sys.executable, "-c", _MEASURED, *args], None, timeout)
    said, _, peak = done.stderr.rpartition("\npeak_kb=")
    done.stderr = said
    return done, int(peak) / 1024


def _run(
    command: list[str], env_extra: dict[str, str] | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ)
    api = PREFECT_API_URL.value()
    if api:  # the session's server instead of one started per command
        env["PREFECT_API_URL"] = str(api)
    env.update(env_extra or {})
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


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
