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
def web_server(**env_extra: str) -> Iterator[str]:
    """Start `duban web` with the test's DUBAN_* environment (plus `env_extra`); yields its
    base URL and stops it afterwards."""
    port = free_port()
    env = {**os.environ, **env_extra}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "web", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
                    raise RuntimeError(f"duban web did not start:\n{output}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
