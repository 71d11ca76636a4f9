"""Monitor benchmark: one pass over 50,000 open assignments, a tenth of them due a reminder.

    .venv/bin/python -m bench.monitor [--assignments 50000] [--database-url URL] [--no-send]

Two campaigns are launched (planning only, no notices sent): a tenth of the units in one whose
reminder falls due at the pass, the rest in one whose deadline is weeks away. Measured:
deciding and recording (the ledger rows planned), then sending them to a local SMTP server.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from bench.launch import write_campaign
from bench.smtp_sink import start_smtp_sink
from tests.receivers import free_port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignments", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-send", action="store_true")
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
    from config.campaign_file import load_campaign_file
    from config.clock import parse_instant
    from config.ladder import DEFAULT_LADDER, OfficeHours, rung_time
    from tasks.assignment import department_batches, fan_out, register_campaign
    from tasks.monitor import plan_reminders, sendable_now
    from tasks.notification import send_batch

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
        loaded = load_campaign_file(path)
        registered = register_campaign(loaded, launched)
        if slug == "soon":
            registered_due = registered.due_at
        for number, batch in enumerate(department_batches(loaded, 500)):
            fan_out(registered.campaign_id, batch, registered.due_at, launched, number)

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
    plans = plan_reminders(now)
    decided = time.perf_counter() - start
    planned = sum(p.planned for p in plans)
    start = time.perf_counter()
    again = sum(p.planned for p in plan_reminders(now))
    repeat = time.perf_counter() - start
    print(
        f"monitor benchmark: {args.assignments:,} open assignments, "
        f"{due_soon:,} due a reminder, {url.split('://', 1)[0]}"
    )
    print(f"  decide and record          {decided:6.2f} s   {planned:,} messages planned")
    print(f"  second pass (all planned)  {repeat:6.2f} s   {again} new")
    if not args.no_send:
        smtpd = start_smtp_sink(port)
        try:
            start = time.perf_counter()
            sent = sum(send_batch(ids, now).sent for ids in sendable_now(plans, now, 500))
            elapsed = time.perf_counter() - start
        finally:
            smtpd.terminate()
        print(
            f"  send to local SMTP         {elapsed:6.2f} s   {sent:,} sent, {sent / elapsed:.0f}/s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory                {peak:.0f} MB (whole run, setup included)")


if __name__ == "__main__":
    main()
