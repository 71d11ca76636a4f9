"""A real Prefect server on PostgreSQL, and process workers, for end-to-end tests.

The server gets a database of its own on the machine's PostgreSQL (`duban_prefect_e2e_<pid>`,
made afresh and dropped afterwards, so two test runs at once never share one), a free loopback
port and a Prefect home in the test's folder. Its scheduler is off, so the monitor's 15-minute
schedule cannot start runs in the middle of a test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.receivers import free_port

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
PREFECT_DB = f"duban_prefect_e2e_{os.getpid()}"
PREFECT = str(Path(sys.executable).parent / "prefect")


def postgres_missing() -> str | None:
    """Why no PostgreSQL can be used here, or None."""
    import psycopg

    try:
        psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL on 127.0.0.1:5432 ({str(exc).strip()})"
    return None


def _fresh_database(name: str, make: bool = True) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if make:
            conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def prefect_server(home: Path) -> Iterator[dict[str, str]]:
    """Start `prefect server start` on PostgreSQL; yields the environment that points a
    Prefect command, a worker or a client at it."""
    _fresh_database(PREFECT_DB)
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": (
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PREFECT_DB}"
        ),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = (home / "server.log").open("w")
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "prefect server did not start:\n" + (home / "server.log").read_text()
                )
            time.sleep(0.5)
        yield env
    finally:
        _stop(server)
        log.close()
        _fresh_database(PREFECT_DB, make=False)


@contextmanager
def worker(env: dict[str, str], pool: str, name: str, log_dir: Path) -> Iterator[Path]:
    """`prefect worker start` on `pool`; yields its log file."""
    path = log_dir / f"{name}.log"
    with path.open("w") as log:
        process = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", pool, "--name", name],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield path
        finally:
            _stop(process)


def prefect(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """A `prefect` command against the server; its output, or an error with it."""
    run = subprocess.run(
        [PREFECT, "--no-prompt", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if run.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed:\n{run.stdout}\n{run.stderr}")
    return run.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
