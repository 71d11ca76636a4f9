"""Sign-in under attack: what a burst of wrong passwords costs `duban web`.

    .venv/bin/python -m bench.signin [--requests 300] [--database-url URL]

One account, one `duban web` process (one worker) on a fresh database. Then:
- a burst of `--requests` concurrent sign-ins with a wrong password for that account;
- the same burst spread out: every request for another name, from another address (each
  from its own loopback address, 127.0.x.y, so each is a client of its own);
- 40 wrong passwords one after the other, then the right one, from one address;
- the right password from an address that took no part.
For each: the answers by status, the wall time, and the server's resident memory (VmRSS)
before and after, and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.environment import bench_environment
from bench.web import ROOT, Server

USERNAME = "bench-coordinator"
PASSWORD = "bench-password-123"


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def _client_address(index: int) -> str:
    """A loopback address of its own for the `index`th client (Linux routes 127/8 to lo)."""
    return f"127.0.{2 + index // 250}.{1 + index % 250}"


async def _burst(base: str, count: int, spread: bool) -> tuple[Counter[int], float]:
    # The clients are made before the clock starts: each costs the client's process tens of
    # milliseconds (its TLS context), which would count against the server on a small machine.
    clients = [
        httpx.AsyncClient(
            base_url=base,
            transport=httpx.AsyncHTTPTransport(
                local_address=_client_address(index if spread else 0)
            ),
            timeout=120,
        )
        for index in range(count)
    ]

    async def one(index: int) -> int:
        name = f"someone-{index}" if spread else USERNAME
        answer = await clients[index].post(
            "/login", data={"username": name, "password": f"wrong-{index}", "next": "/"}
        )
        return answer.status_code

    try:
        started = time.monotonic()
        codes = await asyncio.gather(*(one(i) for i in range(count)))
        return Counter(codes), time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()


def _post(base: str, password: str, address: str) -> tuple[int, float]:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base, transport=transport, timeout=120) as client:
        started = time.monotonic()
        answer = client.post(
            "/login", data={"username": USERNAME, "password": password, "next": "/"}
        )
        return answer.status_code, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="duban-bench-signin-"))
    env = bench_environment(work, args.database_url)
    try:
        subprocess.run(
            [sys.executable, "-m", "cli.main", "coordinator", "add", USERNAME, "--password-stdin"],
            input=PASSWORD + "\n",
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        for spread in (False, True):
            server = Server(env, 1, work / f"web-{spread}.log")
            try:
                server.wait_ready()
                pid = server.process.pid
                idle = _status_mb(pid, "VmRSS")
                codes, wall = asyncio.run(_burst(server.base, args.requests, spread))
                time.sleep(1)
                what = "distinct names and addresses" if spread else "one account, one address"
                print(f"burst of {args.requests} wrong sign-ins ({what}):")
                print(f"  answers: {dict(sorted(codes.items()))} in {wall:.2f} s")
                print(
                    f"  server RSS: {idle:.0f} MB before, {_status_mb(pid, 'VmRSS'):.0f} MB "
                    f"after; peak (VmHWM) {_status_mb(pid, 'VmHWM'):.0f} MB"
                )
                if spread:
                    continue
                other = _post(server.base, PASSWORD, "127.9.9.9")
                print(f"  the right password from another address: HTTP {other[0]}")
                sequential = Counter()
                started = time.monotonic()
                for i in range(40):
                    sequential[_post(server.base, f"wrong-{i}", "127.8.8.8")[0]] += 1
                elapsed = time.monotonic() - started
                right = _post(server.base, PASSWORD, "127.8.8.8")
                print(
                    f"40 wrong passwords one after another from one address: "
                    f"{dict(sorted(sequential.items()))} in {elapsed:.2f} s; "
                    f"then the right one: HTTP {right[0]}"
                )
            finally:
                server.stop()
        log = "".join(p.read_text() for p in sorted(work.glob("web-*.log")))
        print(f"server log: {log.count('Traceback')} tracebacks, {len(log)} characters")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
