"""`duban web` as a real server process on a free loopback port, for browser and HTTP tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.receivers import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class WebServer:
    base: str
    process: subprocess.Popen[bytes]
    log: Path  # what the server wrote (its errors and their tracebacks)

    def status_kb(self, field: str) -> int:
        """A figure of the server's /proc status, in kB (`VmHWM`: its peak resident memory)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)


@contextmanager
def web_server(log: Path | None = None, **env_extra: str) -> Iterator[str]:
    """Start `duban web` with the test's DUBAN_* environment (plus `env_extra`); yields its
    base URL and stops it afterwards. With `log`, what the server prints goes to that file."""
    with web_process(log, **env_extra) as server:
        yield server.base


@contextmanager
def web_process(log: Path | None = None, **env_extra: str) -> Iterator[WebServer]:
    """`web_server`, yielding the process and its log as well."""
    port = free_port()
    env = {**os.environ, **env_extra}
    with tempfile.TemporaryDirectory(prefix="duban-web-") as folder:
        log = log or Path(folder) / "web.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "web", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            # Generous: on a loaded machine importing Prefect alone can take many seconds.
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        output = log.read_text(errors="replace")
                        raise RuntimeError(f"duban web did not start:\n{output}") from None
                    time.sleep(0.1)
            yield WebServer(base, process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
