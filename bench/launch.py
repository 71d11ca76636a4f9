"""Launch benchmark: 50,000 departments.

    .venv/bin/python -m bench.launch [--departments 50000] [--database-url URL]
                                     [--json PATH] [--no-send] [--naive-sample 500]

Measures, each phase in its own process so that its peak memory is its own:
- plan:      the launch's own code (load and validate the file, register the campaign, fan out
             assignments, links and planned notices in batches), against an empty database;
- bulk:      a plain bulk insert (executemany) of the same rows into an empty database;
- copy:      on PostgreSQL, the same rows with COPY, the fastest plain way in: the launch is
             compared with the faster of the two;
- send:      the planned notices sent to a local SMTP server (aiosmtpd in another process);
- baselines: a fresh Apprise object per message without duban's TLS-context fix, and one
             reused Apprise object (its throttle), on a small sample each;
- naive:     one Prefect task run per department (the design duban avoids) on a sample,
             extrapolated to all departments and labelled as such.
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
from datetime import datetime
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
    """An empty database at the newest schema: every table dropped (alembic_version too),
    then the schema built the way every process builds it, by `get_engine`'s migration."""
    from sqlalchemy import MetaData

    from models.db import get_engine, make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
            else:
                existing = MetaData()
                existing.reflect(conn)
                existing.drop_all(conn)
    finally:
        engine.dispose()
    get_engine(url)


def plan_campaign(path: Path, launched: datetime) -> Any:
    """A campaign file launched without notices sent: validated, registered and fanned out in
    batches, as the launch flow's tasks do; returns the registered campaign. The other
    benchmarks set up their campaigns with it."""
    from config.campaign.loader import load_campaign_file
    from tasks.assignment import department_batches, fan_out, register_campaign

    loaded = load_campaign_file(path)
    registered = register_campaign.fn(loaded, launched)
    for number, batch in enumerate(department_batches(loaded, 500)):
        fan_out.fn(registered.campaign_id, batch, registered.due_at, launched, number)
    return registered


def phase_plan(campaign: Path, url: str) -> dict[str, Any]:
    from config.campaign.loader import load_campaign_file
    from config.clock import now
    from config.settings import get_settings
    from tasks.assignment import department_batches, fan_out, register_campaign

    _fresh_database(url)
    start, cpu = time.perf_counter(), time.process_time()
    loaded = load_campaign_file(campaign)
    parsed = time.perf_counter()
    registered = register_campaign.fn(loaded, now())
    for number, batch in enumerate(department_batches(loaded, get_settings().batch_size)):
        fan_out.fn(registered.campaign_id, batch, registered.due_at, now(), number)
    done = time.perf_counter()
    return {
        "load_s": parsed - start,
        "plan_db_s": done - parsed,
        "total_s": done - start,
        # This process's CPU time (on SQLite all the work; on PostgreSQL the server's is not
        # in it): steadier than the wall clock on a busy machine.
        "cpu_s": time.process_time() - cpu,
    }


def _bulk_rows(n: int) -> list[tuple[Any, list[dict[str, Any]]]]:
    """The rows a launch of `n` departments writes, table by table, without checks, upserts
    or tokens derived."""
    from config.campaign.schema import CampaignSettings
    from config.clock import now
    from models import queries as q

    at = now()
    settings = CampaignSettings(slug="bench", title="基准测试活动", due=at.date())
    campaign = {
        "id": 1,
        "slug": "bench",
        "title": "基准测试活动",
        "timezone": "Asia/Shanghai",
        "due_at": at,
        "launched_at": at,
        "updated_at": at,
        "status": "open",
        "source_path": "bench.yaml",
        "spec": settings,
    }
    departments = [
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
    ]
    assignments = [
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
    ]
    tokens = [
        {"assignment_id": i + 1, "token_hash": f"{i:064x}", "salt": f"{i:064x}", "created_at": at}
        for i in range(n)
    ]
    ledger = [
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
    ]
    return [
        (q.CAMPAIGN, [campaign]),
        (q.DEPARTMENT, departments),
        (q.ASSIGNMENT, assignments),
        (q.TOKEN, tokens),
        (q.NOTIFICATION, ledger),
    ]


def phase_bulk(n: int, url: str) -> dict[str, Any]:
    """The same rows, inserted with no checks, no upserts and no tokens derived: one
    executemany per table, in one transaction."""
    from sqlalchemy import insert

    from models.db import get_engine

    _fresh_database(url)
    engine = get_engine(url)
    start, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        for table, rows in _bulk_rows(n):
            conn.execute(insert(table), rows)
    return {"total_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}


def phase_copy(n: int, url: str) -> dict[str, Any]:
    """PostgreSQL: the same rows with COPY (psycopg's `cursor.copy`), in one transaction."""
    from sqlalchemy import JSON

    from models.db import get_engine

    _fresh_database(url)
    engine = get_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for table, rows in _bulk_rows(n):
            # The columns' Python-side defaults, which executemany fills in and COPY does not.
            defaults = {
                c.name: c.default.arg  # type: ignore[attr-defined]
                for c in table.c
                if c.name not in rows[0] and c.default is not None and c.default.is_scalar
            }
            names = [*rows[0], *defaults]
            encode = [isinstance(table.c[k].type, JSON) for k in names]
            extra = list(defaults.values())
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    values = zip([*row.values(), *extra], encode, strict=True)
                    copy.write_row([json.dumps(v) if j else v for v, j in values])
        # Ids were given explicitly, as in the executemany baseline; a launch after this one
        # would need the sequences moved on, which is left out of the measure.
    return {"total_s": time.perf_counter() - start}


def phase_naive_tasks(campaign: Path, url: str, sample: int) -> dict[str, Any]:
    """One Prefect task run per department (fan_out with a batch of one) in a flow, on
    the first `sample` departments of the file; the Prefect server's start is not counted."""
    from prefect import flow

    from config.campaign.loader import load_campaign_file
    from config.clock import now
    from tasks.assignment import department_batches, fan_out, register_campaign

    _fresh_database(url)
    loaded = load_campaign_file(campaign)
    departments = department_batches(loaded, 1)[:sample]

    @flow(name="naive-launch")
    def naive(registered_id: int, due_at: Any) -> float:
        start = time.perf_counter()
        for number, batch in enumerate(departments):
            fan_out(registered_id, batch, due_at, now(), number)
        return time.perf_counter() - start

    registered = register_campaign.fn(loaded, now())
    elapsed = naive(registered.campaign_id, registered.due_at)
    return {"sample": len(departments), "total_s": elapsed}


def phase_send(url: str) -> dict[str, Any]:
    from config.settings import get_settings
    from models.db import get_engine
    from models.kinds import NOTICE
    from models.queries import NOTIFICATION
    from tasks.messages.plan import sendable_batches
    from tasks.messages.send import send_batch

    with get_engine(url).connect() as conn:
        campaign_id = conn.execute(NOTIFICATION.select().limit(1)).first().campaign_id  # type: ignore[union-attr]
    start = time.perf_counter()
    sent = failed = 0
    for ids in sendable_batches.fn(campaign_id, NOTICE, get_settings().batch_size):
        report = send_batch.fn(ids)
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


def figure(
    measure: str,
    value: float,
    unit: str,
    *,
    target: str | None = None,
    met: bool | None = None,
    baseline: dict[str, Any] | None = None,
    peak_mb: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "measure": measure,
        "value": round(value, 3),
        "unit": unit,
        "target": target,
        "met": met,
        "baseline": baseline,
        "peak_mb": round(peak_mb) if peak_mb is not None else None,
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--departments", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--no-send", action="store_true", help="skip the sending phases")
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=500,
        help="departments for the one-task-run-per-department baseline (0: skip it)",
    )
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
        elif args.phase == "copy":
            result = phase_copy(args.departments, url)
        elif args.phase == "naive":
            result = phase_naive_tasks(Path(args.campaign), url, args.naive_sample)
        elif args.phase == "send":
            result = phase_send(url)
        else:
            result = phase_baseline(args.port)
        print(json.dumps({**result, "peak_mb": _peak_mb()}))
        return

    from tests.receivers import free_port

    work = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    db = "postgresql" if url.startswith(("postgresql", "postgres:")) else url.split(":", 1)[0]
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
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    }
    n = args.departments
    send: dict[str, Any] | None = None
    base: dict[str, Any] | None = None
    naive: dict[str, Any] | None = None
    try:
        bulks = {"executemany": _run_phase("bulk", env, "--departments", str(n))}
        if db == "postgresql":
            bulks["COPY"] = _run_phase("copy", env, "--departments", str(n))
        plan = _run_phase("plan", env, "--campaign", str(campaign))
        if not args.no_send:
            send = _run_phase("send", env)
            base = _run_phase("baseline", env, "--port", str(port))
        if args.naive_sample > 0:
            naive = _run_phase(
                "naive", env, "--campaign", str(campaign), "--naive-sample", str(args.naive_sample)
            )
    finally:
        smtpd.terminate()

    how, bulk = min(bulks.items(), key=lambda item: item[1]["total_s"])
    bulk_s = bulk["total_s"]
    baseline = {"name": f"bulk insert ({how})", "value": round(bulk_s, 3), "unit": "s"}
    print(f"launch benchmark: {n:,} departments, {db}")
    for name, result in bulks.items():
        print(
            f"  bulk insert of the same rows ({name}){' ' * (12 - len(name))}"
            f"{result['total_s']:7.2f} s   peak {result['peak_mb']:.0f} MB"
        )
    print(f"  launch, plan (load+validate)              {plan['load_s']:7.2f} s")
    print(
        f"  launch, plan (database)                   {plan['plan_db_s']:7.2f} s   "
        f"ratio to bulk ({how}) {plan['plan_db_s'] / bulk_s:.2f}x"
    )
    ratio = plan["total_s"] / bulk_s
    print(
        f"  launch, plan (total)                      {plan['total_s']:7.2f} s   "
        f"ratio to bulk ({how}) {ratio:.2f}x   peak {plan['peak_mb']:.0f} MB"
    )
    results = [
        figure(
            f"bulk insert of the same rows ({name})",
            result["total_s"],
            "s",
            peak_mb=result["peak_mb"],
        )
        for name, result in bulks.items()
    ]
    results += [
        figure("launch planning: load and validate the file", plan["load_s"], "s"),
        figure(
            "launch planning: database work",
            plan["plan_db_s"],
            "s",
            baseline=baseline,
            ratio=round(plan["plan_db_s"] / bulk_s, 2),
        ),
        figure(
            "launch planning in total",
            plan["total_s"],
            "s",
            target="within 3x of bulk insert",
            met=ratio <= 3,
            baseline=baseline,
            peak_mb=plan["peak_mb"],
            ratio=round(ratio, 2),
        ),
    ]
    if send is not None and base is not None:
        print(
            f"  notices to local SMTP                     {send['total_s']:7.2f} s   "
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
        results += [
            figure(
                "notices to a local SMTP server",
                send["per_s"],
                "msg/s",
                target="at least 200 per second",
                met=send["per_s"] >= 200 and send["failed"] == 0,
                peak_mb=send["peak_mb"],
                sent=send["sent"],
                failed=send["failed"],
            ),
            figure(
                "naive: fresh Apprise object per message, Apprise's own TLS setup",
                base["fresh_object_per_s"],
                "msg/s",
            ),
            figure("naive: one reused Apprise object", base["reused_object_per_s"], "msg/s"),
        ]
    if naive is not None:
        per = naive["total_s"] / naive["sample"]
        print(
            f"  baseline: one Prefect task run per department  {naive['total_s']:7.2f} s for "
            f"{naive['sample']:,}, {per * 1000:.0f} ms each: {per * n:,.0f} s for {n:,} "
            "(extrapolated)"
        )
        results.append(
            figure(
                f"naive: one Prefect task run per department, extrapolated to {n:,} from "
                f"{naive['sample']:,}",
                per * n,
                "s",
                peak_mb=naive["peak_mb"],
                extrapolated=True,
                sample=naive["sample"],
                sample_s=round(naive["total_s"], 3),
            )
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"bench": "launch", "database": db, "units": n, "results": results},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
