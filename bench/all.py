"""Every benchmark, on SQLite and on PostgreSQL, into one table: `bench/RESULTS.md`.

    .venv/bin/python -m bench.all [--units 50000] [--databases sqlite postgresql]
                                  [--areas launch monitor web report] [--out bench/RESULTS.md]

Each area's benchmark runs as its own process with `--json` (see `bench/launch.py`,
`bench/monitor.py`, `bench/web.py`, `bench/report.py`); its naive baselines are measured in the
same run. On PostgreSQL each area gets a database of its own, `duban_bench_<area>`, made if
missing (never `test`, which the test suite uses). The file records the machine, the commit,
the load before and after, and each figure with its target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
AREAS = ("launch", "monitor", "web", "report")
REPORT_UNITS = 2_000  # the report's benchmark: 2,000 accepted summaries, one photo each


def area_args(area: str, units: int) -> list[str]:
    return {
        "launch": ["--departments", str(units)],
        "monitor": ["--assignments", str(units)],
        "web": ["--units", str(units), "--workers", "1", "2", "--duration", "10"],
        "report": ["--units", str(min(units, REPORT_UNITS))],
    }[area]


def database_url(area: str, database: str) -> list[str]:
    if database == "sqlite":
        return []
    name = f"duban_bench_{area}"
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return ["--database-url", f"{POSTGRES}/{name}"]


def run(area: str, database: str, units: int, folder: Path) -> dict[str, Any]:
    out = folder / f"{area}-{database}.json"
    log = folder / f"{area}-{database}.log"
    command = [
        sys.executable,
        "-m",
        f"bench.{area}",
        *area_args(area, units),
        *database_url(area, database),
        "--json",
        str(out),
    ]
    print(f"== {area} on {database}: {' '.join(command[2:])}", flush=True)
    start = time.perf_counter()
    with log.open("w") as handle:
        done = subprocess.run(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - start
    print(f"   {elapsed:.0f} s, exit {done.returncode}, log {log}", flush=True)
    if done.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace").splitlines()[-15:]
        return {"bench": area, "database": database, "error": "\n".join(tail), "results": []}
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def machine() -> list[str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    postgres = "none"
    try:
        import psycopg

        with psycopg.connect(f"{POSTGRES}/postgres") as conn:
            row = conn.execute("SHOW server_version").fetchone()
            postgres = str(row[0]) if row else "?"
    except Exception as exc:  # the SQLite half still runs
        postgres = f"unavailable ({type(exc).__name__})"
    return [
        f"- machine: {cpu}, {os.cpu_count()} cores, {memory}, {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {postgres}",
    ]


def commit() -> str:
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{sha or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def _value(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "—"
    value = entry["value"]
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    peak = f" (peak {entry['peak_mb']} MB)" if entry.get("peak_mb") else ""
    return f"{text} {entry['unit']}{peak}"


def _baseline(entries: list[dict[str, Any] | None]) -> str:
    shown = []
    for entry in entries:
        if entry and entry.get("baseline"):
            b = entry["baseline"]
            shown.append(f"{b['name']}: {b['value']:,.3g} {b['unit']}")
    return "; ".join(dict.fromkeys(shown)) or ""


def _met(entries: list[dict[str, Any] | None]) -> str:
    marks = [e["met"] for e in entries if e and e.get("met") is not None]
    if not marks:
        return ""
    return "yes" if all(marks) else "**no**"


def table(results: list[dict[str, Any]], databases: list[str]) -> list[str]:
    lines = [
        "| area | measure | " + " | ".join(databases) + " | target | met | naive baseline |",
        "| --- | --- | " + " | ".join("---" for _ in databases) + " | --- | --- | --- |",
    ]
    by_key: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for result in results:
        for entry in result["results"]:
            key = (result["bench"], entry["measure"])
            by_key.setdefault(key, {})[result["database"]] = entry
    for (area, measure), per_db in by_key.items():
        entries = [per_db.get(db) for db in databases]
        target = next((e["target"] for e in entries if e and e.get("target")), "")
        cells = " | ".join(_value(e) for e in entries)
        lines.append(
            f"| {area} | {measure} | {cells} | {target} | {_met(entries)} | {_baseline(entries)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--areas", nargs="+", default=list(AREAS), choices=AREAS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"duban-bench-all-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    results = [run(a, d, args.units, folder) for a in args.areas for d in args.databases]
    load_after = os.getloadavg()
    minutes = (dt.datetime.now(dt.UTC) - started).total_seconds() / 60
    lines = [
        "# Benchmark results",
        "",
        f"Written by `.venv/bin/python -m bench.all` on {started:%Y-%m-%d %H:%M} UTC "
        f"({minutes:.0f} minutes), {args.units:,} units "
        f"(the report: {min(args.units, REPORT_UNITS):,} units with one photo each).",
        "",
        f"- commit: {commit()}",
        *machine(),
        f"- load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        "the benchmark client (wrk, SMTP sink) shares the machine with the server",
        "",
        *table(results, args.databases),
        "",
    ]
    failed = [r for r in results if r.get("error")]
    for r in failed:
        lines += [f"**{r['bench']} on {r['database']} failed:**", "", "```", r["error"], "```", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print(f"\nwrote {args.out}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
