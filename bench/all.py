"""Every benchmark, on SQLite and on PostgreSQL, into one table: `bench/RESULTS.md`.

    .venv/bin/python -m bench.all [--units 50000] [--databases sqlite postgresql]
                                  [--areas launch mail monitor web report] [--out bench/RESULTS.md]

Each area's benchmark runs as its own process with `--json` (see `bench/launch.py`,
`bench/mail.py`, `bench/monitor.py`, `bench/web.py`, `bench/report.py`); its naive baselines
are measured in the same run. On PostgreSQL each area gets a database of its own,
`duban_bench_<area>`, made if missing (never `test`, which the test suite uses). The file
records the machine, the commit, the load before and after, and each figure with its target.
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
AREAS = ("launch", "mail", "monitor", "web", "report")
REPORT_UNITS = 2_000  # the report's benchmark: 2,000 accepted summaries, one photo each


def area_args(area: str, units: int) -> list[str]:
    return {
        "launch": ["--departments", str(units)],
        # duban's launch at three sizes against smtplib, side by side on one sink
        "mail": ["--units", *(str(n) for n in sorted({3_000, 20_000, units}))],
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


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _value(entry: dict[str, Any] | None) -> str:
    return "—" if entry is None else f"{_number(entry['value'])} {entry['unit']}"


def _baseline(entries: list[dict[str, Any] | None], databases: list[str]) -> str:
    """The naive baseline of each database's run, named once."""
    shown: dict[str, list[str]] = {}
    for db, entry in zip(databases, entries, strict=True):
        if entry and entry.get("baseline"):
            b = entry["baseline"]
            shown.setdefault(b["name"], []).append(f"{db} {_number(b['value'])} {b['unit']}")
    return "; ".join(f"{name}: {', '.join(values)}" for name, values in shown.items())


def _met(entries: list[dict[str, Any] | None]) -> str:
    marks = [e["met"] for e in entries if e and e.get("met") is not None]
    if not marks:
        return ""
    return "yes" if all(marks) else "**no**"


PEAK_TARGET_MB = 500


def table(results: list[dict[str, Any]], databases: list[str]) -> list[str]:
    lines = [
        "| area | measure | " + " | ".join(databases) + " | target | met | naive baseline |",
        "| --- | --- | " + " | ".join("---" for _ in databases) + " | --- | --- | --- |",
    ]
    by_key: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    peaks: dict[str, dict[str, float]] = {}
    for result in results:
        for entry in result["results"]:
            key = (result["bench"], entry["measure"])
            by_key.setdefault(key, {})[result["database"]] = entry
            if entry.get("peak_mb"):
                area = peaks.setdefault(result["bench"], {})
                area[result["database"]] = max(area.get(result["database"], 0), entry["peak_mb"])
    area_rows: dict[str, list[str]] = {}
    for (area, measure), per_db in by_key.items():
        entries = [per_db.get(db) for db in databases]
        target = next((e["target"] for e in entries if e and e.get("target")), "")
        cells = " | ".join(_value(e) for e in entries)
        baseline = _baseline(entries, databases)
        area_rows.setdefault(area, []).append(
            f"| {area} | {measure} | {cells} | {target} | {_met(entries)} | {baseline} |"
        )
    for area, rows in area_rows.items():
        lines += rows
        if area in peaks and not any("peak memory" in row for row in rows):
            # Each area's largest process (the benchmark's own, or the server's for web).
            cells = " | ".join(
                f"{peaks[area][db]:,.0f} MB" if db in peaks[area] else "—" for db in databases
            )
            met = "yes" if all(v < PEAK_TARGET_MB for v in peaks[area].values()) else "**no**"
            lines.append(
                f"| {area} | peak memory, largest process | {cells} | "
                f"under {PEAK_TARGET_MB} MB | {met} | |"
            )
    return lines


def write_results(out: Path, folder: Path, databases: list[str]) -> list[dict[str, Any]]:
    """`RESULTS.md` from a run's folder: its `meta.json` and each area's JSON (or error)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    results = [
        json.loads((folder / f"{a}-{d}.json").read_text(encoding="utf-8"))
        if (folder / f"{a}-{d}.json").exists()
        else {"bench": a, "database": d, "error": f"no result in {folder}", "results": []}
        for a in meta["areas"]
        for d in databases
    ]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `.venv/bin/python -m bench.all` on {meta['started']} UTC "
        f"({meta['minutes']:.0f} minutes), {meta['units']:,} units "
        f"(the report: {min(meta['units'], REPORT_UNITS):,} units with one photo each).",
        "",
        f"- commit: {meta['commit']}",
        *meta["machine"],
        f"- load average (1 min) before {meta['load_before']:.2f}, after "
        f"{meta['load_after']:.2f}; the benchmark client (wrk, SMTP sink) shares the machine "
        "with the server",
        "",
        *table(results, databases),
        "",
    ]
    for r in results:
        if r.get("error"):
            lines += [
                f"**{r['bench']} on {r['database']} failed:**",
                "",
                "```",
                r["error"],
                "```",
                "",
            ]
    out.write_text("\n".join(lines), encoding="utf-8")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=50_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--areas", nargs="+", default=list(AREAS), choices=AREAS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--from", dest="rewrite", type=Path, help="write the table again from a run's folder"
    )
    args = parser.parse_args()
    if args.rewrite:
        results = write_results(args.out, args.rewrite, args.databases)
        print(f"wrote {args.out}")
        raise SystemExit(1 if any(r.get("error") for r in results) else 0)
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"duban-bench-all-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    for area in args.areas:
        for database in args.databases:
            result = run(area, database, args.units, folder)
            if result.get("error"):
                path = folder / f"{area}-{database}.json"
                path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    meta = {
        "started": f"{started:%Y-%m-%d %H:%M}",
        "minutes": (dt.datetime.now(dt.UTC) - started).total_seconds() / 60,
        "units": args.units,
        "areas": args.areas,
        "commit": commit(),
        "machine": machine(),
        "load_before": load_before[0],
        "load_after": os.getloadavg()[0],
    }
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    results = write_results(args.out, folder, args.databases)
    print(f"\nwrote {args.out} (from {folder}; `--from {folder}` writes it again)")
    raise SystemExit(1 if any(r.get("error") for r in results) else 0)


if __name__ == "__main__":
    main()
