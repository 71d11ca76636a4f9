"""Launch benchmark: 50,000 departments.

    .venv/bin/python -m bench.launch [--departments 50000] [--database-url URL]

Measures, each phase in its own process so that its peak memory is its own:
- plan:      the launch's own code (load and validate the file, register the campaign, fan out
             assignments, links and planned notices in batches), against an empty database;
- bulk:      a plain bulk insert (executemany) of the same rows into an empty database;
- send:      the planned notices sent to a local SMTP server (aiosmtpd in another process);
- baselines: a fresh Apprise object per message without duban's TLS-context fix, and one
             reused Apprise object (its throttle), on a small sample each.
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
from pathlib import Path
from typing import Any

import yaml

from bench.smtp_sink import start_smtp_sink

ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_campaign(path: Path, n: int) -> None:
    data = {
        "slug": "bench",
        "title": "基准测试活动",
        "lead_office": "基准测试办公室",
        "due": "2030-09-30",
        "common_duties": ["开展质量主题宣传。"],
        "departments": [
            {
                "code": f"d{i:06d}",
                "name": f"第{i}单位",
                "notify": [f"d{i:06d}@bench.test"],
                "duties": [f"第{i}单位的任务。"],
            }
            for i in range(n)
        ],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _fresh_database(url: str) -> None:
    from sqlmodel import SQLModel

    from models.db import get_engine

    engine = get_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)


def phase_plan(campaign: Path, url: str) -> dict[str, Any]:
    from config.campaign_file import load_campaign_file
    from config.clock import now
    from config.settings import get_settings
    from tasks.assignment import department_batches, fan_out, register_campaign

    _fresh_database(url)
    start = time.perf_counter()
    loaded = load_campaign_file(campaign)
    parsed = time.perf_counter()
    registered = register_campaign(loaded, now())
    for number, batch in enumerate(department_batches(loaded, get_settings().batch_size)):
        fan_out(registered.campaign_id, batch, registered.due_at, now(), number)
    done = time.perf_counter()
    return {"load_s": parsed - start, "plan_db_s": done - parsed, "total_s": done - start}


def phase_bulk(n: int, url: str) -> dict[str, Any]:
    """The same rows, inserted with no checks, no upserts and no tokens derived."""
    from sqlalchemy import insert

    from config.clock import now
    from models import queries as q
    from models.db import get_engine

    _fresh_database(url)
    at = now()
    engine = get_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            insert(q.CAMPAIGN),
            [
                {
                    "id": 1,
                    "slug": "bench",
                    "title": "基准测试活动",
                    "timezone": "Asia/Shanghai",
                    "due_at": at,
                    "launched_at": at,
                    "updated_at": at,
                    "status": "open",
                    "source_path": "bench.yaml",
                    "spec": {},
                }
            ],
        )
        conn.execute(
            insert(q.DEPARTMENT),
            [
                {
                    "id": i + 1,
                    "campaign_id": 1,
                    "code": f"d{i:06d}",
                    "name": f"第{i}单位",
                    "notify": [f"d{i:06d}@bench.test"],
                    "duties": [f"第{i}单位的任务。"],
                    "head_notify": [],
                    "in_file": True,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(q.ASSIGNMENT),
            [
                {
                    "id": i + 1,
                    "campaign_id": 1,
                    "department_id": i + 1,
                    "status": "assigned",
                    "due_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(q.TOKEN),
            [
                {
                    "assignment_id": i + 1,
                    "token_hash": f"{i:064x}",
                    "salt": f"{i:064x}",
                    "created_at": at,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(q.NOTIFICATION),
            [
                {
                    "campaign_id": 1,
                    "assignment_id": i + 1,
                    "kind": "notice",
                    "channel": f"d{i:06d}@bench.test",
                    "state": "pending",
                    "attempts": 0,
                    "created_at": at,
                    "updated_at": at,
                }
                for i in range(n)
            ],
        )
    return {"total_s": time.perf_counter() - start}


def phase_send(url: str) -> dict[str, Any]:
    from config.settings import get_settings
    from models.db import get_engine
    from models.queries import NOTIFICATION
    from models.tables import NOTICE
    from tasks.notification import send_batch, sendable_batches

    with get_engine(url).connect() as conn:
        campaign_id = conn.execute(NOTIFICATION.select().limit(1)).first().campaign_id  # type: ignore[union-attr]
    start = time.perf_counter()
    sent = failed = 0
    for ids in sendable_batches(campaign_id, NOTICE, get_settings().batch_size):
        report = send_batch(ids)
        sent += report.sent
        failed += len(report.failed)
    elapsed = time.perf_counter() - start
    return {"sent": sent, "failed": failed, "total_s": elapsed, "per_s": sent / elapsed}


def phase_baseline(port: int) -> dict[str, Any]:
    import apprise

    url = f"mailto://127.0.0.1:{port}?from=office@bench.test&to=x@bench.test"
    n = 100
    start = time.perf_counter()
    for _ in range(n):  # fresh object, Apprise's own per-message TLS context
        assert apprise.Apprise.instantiate(url).notify(body="正文", title="标题")
    fresh = n / (time.perf_counter() - start)
    reused = apprise.Apprise()
    reused.add(url)
    start = time.perf_counter()
    for _ in range(3):
        assert reused.notify(body="正文", title="标题")
    reused_rate = 3 / (time.perf_counter() - start)
    return {"fresh_object_per_s": fresh, "reused_object_per_s": reused_rate}


def _run_phase(name: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.launch", "--phase", name, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departments", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--phase", default=None)
    parser.add_argument("--campaign", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    if args.phase:
        url = os.environ["DUBAN_DATABASE_URL"]
        if args.phase == "plan":
            result = phase_plan(Path(args.campaign), url)
        elif args.phase == "bulk":
            result = phase_bulk(args.departments, url)
        elif args.phase == "send":
            result = phase_send(url)
        else:
            result = phase_baseline(args.port)
        print(json.dumps({**result, "peak_mb": _peak_mb()}))
        return

    from tests.receivers import free_port

    work = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    campaign = work / "bench.yaml"
    write_campaign(campaign, args.departments)
    port = free_port()
    smtpd = start_smtp_sink(port)
    env = {
        **os.environ,
        "DUBAN_DATABASE_URL": url,
        "DUBAN_DATA_DIR": str(work / "data"),
        "DUBAN_SMTP_URL": f"mailto://127.0.0.1:{port}?from=office@bench.test",
        "DO_NOT_TRACK": "1",
    }
    try:
        bulk = _run_phase("bulk", env, "--departments", str(args.departments))
        plan = _run_phase("plan", env, "--campaign", str(campaign))
        send = _run_phase("send", env)
        base = _run_phase("baseline", env, "--port", str(port))
    finally:
        smtpd.terminate()
    n = args.departments
    db = url.split("://", 1)[0]
    print(f"launch benchmark: {n:,} departments, {db}")
    print(
        f"  bulk insert of the same rows   {bulk['total_s']:7.2f} s   peak {bulk['peak_mb']:.0f} MB"
    )
    print(f"  launch, plan (load+validate)   {plan['load_s']:7.2f} s")
    print(
        f"  launch, plan (database)        {plan['plan_db_s']:7.2f} s   "
        f"ratio to bulk {plan['plan_db_s'] / bulk['total_s']:.2f}x"
    )
    print(
        f"  launch, plan (total)           {plan['total_s']:7.2f} s   "
        f"ratio to bulk {plan['total_s'] / bulk['total_s']:.2f}x   peak {plan['peak_mb']:.0f} MB"
    )
    print(
        f"  notices to local SMTP          {send['total_s']:7.2f} s   "
        f"{send['per_s']:.0f}/s   sent {send['sent']:,} failed {send['failed']}   "
        f"peak {send['peak_mb']:.0f} MB"
    )
    print(
        f"  baseline: fresh Apprise object per message, no TLS fix  "
        f"{base['fresh_object_per_s']:.0f}/s"
    )
    print(
        f"  baseline: one reused Apprise object                     "
        f"{base['reused_object_per_s']:.2f}/s"
    )


if __name__ == "__main__":
    main()
