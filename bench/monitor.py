"""Monitor benchmark: one pass over 50,000 open assignments, a tenth of them due a reminder;
then two monitors at once over all 50,000.

    .venv/bin/python -m bench.monitor [--assignments 50000] [--database-url URL] [--no-send]
                                      [--json PATH]

Two campaigns are launched (planning only, no notices sent): a tenth of the units in one whose
reminder falls due at the pass, the rest in one whose deadline is weeks away. Measured:
deciding and recording (the ledger rows planned), a second pass with nothing new, then sending
them to a local SMTP server. Last, two `duban monitor` processes run at once at a moment when
every unit is due a message; the SMTP server logs what it receives, and each unit must get
exactly one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.launch import ROOT, plan_campaign, write_campaign
from bench.smtp_sink import start_smtp_sink
from tests.receivers import free_port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignments", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-send", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="duban-bench-monitor-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    port = free_port()
    os.environ.update(
        DUBAN_DATABASE_URL=url,
        DUBAN_DATA_DIR=str(work / "data"),
        DUBAN_SMTP_URL=f"mailto://127.0.0.1:{port}?from=office@bench.test",
    )
    from bench.launch import _fresh_database
    from config.calendars import WorkCalendar
    from config.clock import parse_instant
    from config.ladder import DEFAULT_LADDER, OfficeHours, rung_time
    from tasks.messages.send import send_batch
    from tasks.monitor import plan_reminders, sendable_now

    _fresh_database(url)
    registered_due = None
    due_soon = args.assignments // 10
    # 2026: the last year the packaged calendar covers, so the pass uses real holidays.
    launched = parse_instant("2026-09-01T09:00", "Asia/Shanghai")
    for slug, n, due in (
        ("soon", due_soon, "2026-09-30"),
        ("later", args.assignments - due_soon, "2026-12-31"),
    ):
        path = work / f"{slug}.yaml"
        write_campaign(path, n)
        text = path.read_text(encoding="utf-8").replace("slug: bench", f"slug: bench-{slug}")
        path.write_text(text.replace("due: '2030-09-30'", f"due: '{due}'"), encoding="utf-8")
        registered = plan_campaign(path, launched)
        if slug == "soon":
            registered_due = registered.due_at

    # As after a launch: every notice went out, so the pass has only reminders to send.
    from sqlalchemy import text

    from models.db import get_engine

    with get_engine(url).begin() as conn:
        conn.execute(text("UPDATE notification SET state = 'sent' WHERE kind = 'notice'"))
    assert registered_due is not None
    # The moment the first rung of the default ladder falls due for the "soon" campaign.
    now = rung_time(
        DEFAULT_LADDER[0], registered_due, "Asia/Shanghai", OfficeHours(), WorkCalendar()
    )
    start = time.perf_counter()
    plans = plan_reminders.fn(now)
    decided = time.perf_counter() - start
    planned = sum(p.planned for p in plans)
    start = time.perf_counter()
    again = sum(p.planned for p in plan_reminders.fn(now))
    repeat = time.perf_counter() - start
    database = url.split("://", 1)[0].split("+")[0]
    print(
        f"monitor benchmark: {args.assignments:,} open assignments, "
        f"{due_soon:,} due a reminder, {database}"
    )
    print(f"  decide and record          {decided:6.2f} s   {planned:,} messages planned")
    print(f"  second pass (all planned)  {repeat:6.2f} s   {again} new")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results: list[dict[str, Any]] = [
        _result(f"monitor pass, {due_soon:,} due: decide and record", decided, "s", peak),
        _result("monitor pass with nothing new", repeat, "s", peak),
    ]
    if not args.no_send:
        smtpd = start_smtp_sink(port)
        try:
            start = time.perf_counter()
            sent = sum(send_batch.fn(ids, now).sent for ids in sendable_now.fn(plans, now, 500))
            elapsed = time.perf_counter() - start
        finally:
            smtpd.terminate()
        print(
            f"  send to local SMTP         {elapsed:6.2f} s   {sent:,} sent, {sent / elapsed:.0f}/s"
        )
        results.append(_result("monitor: reminders sent to local SMTP", sent / elapsed, "msg/s"))
        results.extend(two_monitors(work, url, args.assignments, registered_due))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory                {peak:.0f} MB (whole run, setup included)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "bench": "monitor",
                    "database": database,
                    "units": args.assignments,
                    "results": results,
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )


def _result(
    measure: str, value: float, unit: str, peak_mb: float | None = None, **extra: Any
) -> dict[str, Any]:
    target = {"s": "under 1 s"}.get(unit) if measure.startswith("monitor pass") else None
    return {
        "measure": measure,
        "value": round(value, 3),
        "unit": unit,
        "target": target,
        "met": (value < 1) if target else None,
        "baseline": None,
        "peak_mb": round(peak_mb) if peak_mb else None,
        **extra,
    }


def two_monitors(work: Path, url: str, units: int, due_at: datetime) -> list[dict[str, Any]]:
    """Two `duban monitor` processes at once, when every unit is due a message: the SMTP
    server must receive each unit's exactly once."""
    from config.calendars import WorkCalendar
    from config.ladder import DEFAULT_LADDER, OfficeHours, rung_time

    # The later campaign's first reminder; by then the early one is at its last rung.
    later_due = due_at + timedelta(days=92)
    moment = rung_time(DEFAULT_LADDER[0], later_due, "Asia/Shanghai", OfficeHours(), WorkCalendar())
    port = free_port()
    log = work / "two-monitors.log"
    env = {
        **os.environ,
        "DUBAN_SMTP_URL": f"mailto://127.0.0.1:{port}?from=office@bench.test",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        # Each process starts its own ephemeral Prefect server; on a busy machine two at once
        # take longer than Prefect's default wait.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    command = [sys.executable, "-m", "cli.main", "monitor", "--now", moment.isoformat()]
    smtpd = start_smtp_sink(port, log)
    try:
        start = time.perf_counter()
        runs = [
            subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
            for _ in "ab"
        ]
        outputs = [run.communicate()[0] for run in runs]
        elapsed = time.perf_counter() - start
    finally:
        time.sleep(1)  # the sink's last lines
        smtpd.terminate()
    failed = [run.returncode for run in runs if run.returncode != 0]
    lines = log.read_text(encoding="utf-8").splitlines()
    # A unit's address and the message's heading: the two campaigns share addresses, but at
    # this moment one is sent its escalation and the other its first reminder.
    per_unit = Counter(lines)
    twice = sum(1 for n in per_unit.values() if n > 1)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"  two monitors at once       {elapsed:6.2f} s   {len(lines):,} received by "
        f"{len(per_unit):,} units, {twice} twice, exit codes {[r.returncode for r in runs]}"
    )
    if failed:
        print("\n".join(outputs))
    return [
        _result(
            "two monitors at once: units sent exactly one message",
            len(per_unit) - twice,
            "units",
            peak,
            target=f"{units:,} units, none twice",
            met=len(per_unit) == units and twice == 0 and not failed,
        ),
        _result("two monitors at once: messages per second", len(lines) / elapsed, "msg/s"),
    ]


if __name__ == "__main__":
    main()
