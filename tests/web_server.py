"""`duban web` as a real server process on a free loopback port, for browser and HTTP tests."""

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


@contextmanager
def web_server(log: Path | None = None, **env_extra: str) -> Iterator[str]:
    """Start `duban web` with the test's DUBAN_* environment (plus `env_extra`); yields its
    base URL and stops it afterwards. With `log`, what the server prints goes to that file."""
    port = free_port()
    env = {**os.environ, **env_extra}
    sink = open(log, "wb") if log is not None else None  # noqa: SIM115 (the child keeps a copy)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "web", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=sink or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if sink is not None:
        sink.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    output += log.read_text() if log is not None else ""
                    raise RuntimeError(f"duban web did not start:\n{output}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
