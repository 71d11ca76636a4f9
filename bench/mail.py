"""Mail benchmark: duban's launch against plain smtplib, side by side, one SMTP sink.

    .venv/bin/python -m bench.mail [--units 3000 20000 50000] [--database-url URL]
                                   [--json PATH]

For each size, in a fresh database and its own processes: the launch's planning (load,
validate, fan out; `bench.launch`'s `plan` phase) and then the notices sent to the sink
(`send` phase); per unit, the sum of both. Then, against the same sink and for the largest
size, plain smtplib over one kept connection, one message per unit built with the standard
library (the floor any sender over one connection can reach). Targets: the cost per unit at
the largest size within 1.3x of that at the smallest (flat, not growing with the campaign),
and duban's rate at the largest size at least half of smtplib's.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bench.environment import bench_environment
from bench.launch import ROOT, figure, write_campaign
from bench.smtp_sink import start_smtp_sink


def _phase(name: str, env: dict[str, str], *args: str) -> dict[str, Any]:
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


def launch(units: int, port: int, work: Path, url: str | None) -> dict[str, Any]:
    folder = work / f"launch-{units}"
    folder.mkdir()
    env = bench_environment(
        folder, url, DUBAN_SMTP_URL=f"mailto://127.0.0.1:{port}?from=office@bench.test"
    )
    campaign = folder / "bench.yaml"
    write_campaign(campaign, units)
    plan = _phase("plan", env, "--campaign", str(campaign))
    send = _phase("send", env)
    total = plan["total_s"] + send["total_s"]
    return {
        "units": units,
        "plan_s": plan["total_s"],
        "send_s": send["total_s"],
        "sent": send["sent"],
        "failed": send["failed"],
        "per_unit_ms": total / units * 1000,
        "per_s": units / total,
        "send_per_s": send["per_s"],
        "peak_mb": max(plan["peak_mb"], send["peak_mb"]),
    }


def kept_connection(units: int, port: int) -> dict[str, Any]:
    """smtplib, one connection, one message per unit, each built as it is sent."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(units):
            mail = EmailMessage()
            mail["From"] = "office@bench.test"
            mail["To"] = f"d{i:06d}@bench.test"
            mail["Subject"] = f"【督办通知】基准测试活动：第{i}单位"
            mail.set_content(f"第{i}单位：请于 2030-09-30 前完成。\n链接：http://x.test/t/{i}\n")
            smtp.send_message(mail)
    elapsed = time.perf_counter() - start
    return {"units": units, "total_s": elapsed, "per_s": units / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, nargs="+", default=[3_000, 20_000, 50_000])
    parser.add_argument("--database-url", default=None, help="default: SQLite in a scratch dir")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from tests.receivers import free_port

    work = Path(tempfile.mkdtemp(prefix="duban-bench-mail-"))
    port = free_port()
    sink = start_smtp_sink(port)
    runs: list[dict[str, Any]] = []
    try:
        for units in args.units:
            runs.append(launch(units, port, work, args.database_url))
            r = runs[-1]
            print(
                f"duban launch {units:>7,} units: plan {r['plan_s']:6.1f} s + send "
                f"{r['send_s']:6.1f} s = {r['per_unit_ms']:.2f} ms/unit, {r['per_s']:.0f} units/s "
                f"(sending alone {r['send_per_s']:.0f} msg/s; sent {r['sent']:,}, failed "
                f"{r['failed']}; peak {r['peak_mb']:.0f} MB)",
                flush=True,
            )
        smtp = kept_connection(max(args.units), port)
        print(
            f"smtplib, one kept connection, {smtp['units']:,} messages: {smtp['per_s']:.0f} msg/s",
            flush=True,
        )
    finally:
        sink.terminate()
    first, last = runs[0], runs[-1]
    growth = last["per_unit_ms"] / first["per_unit_ms"]
    share = last["per_s"] / smtp["per_s"]
    print(
        f"per-unit cost at {last['units']:,} / at {first['units']:,}: {growth:.2f}x "
        f"(target ≤ 1.3x: {'met' if growth <= 1.3 else 'NOT met'}); duban at "
        f"{last['units']:,} / smtplib: {share:.2f} (target ≥ 0.5: "
        f"{'met' if share >= 0.5 else 'NOT met'})"
    )
    if args.json:
        database = "postgresql" if args.database_url else "sqlite"
        args.json.write_text(json.dumps(_results(runs, smtp, database)), encoding="utf-8")


def _results(runs: list[dict[str, Any]], smtp: dict[str, Any], database: str) -> dict[str, Any]:
    """The figures as `bench.all` tabulates them (see `bench.launch.figure`)."""
    first, last = runs[0], runs[-1]
    growth = last["per_unit_ms"] / first["per_unit_ms"]
    share = last["per_s"] / smtp["per_s"]
    baseline = {"name": "smtplib, one kept connection", "value": smtp["per_s"], "unit": "msg/s"}
    entries = [
        figure(
            f"launch (plan and send) at {r['units']:,} units: cost per unit",
            r["per_unit_ms"],
            "ms per unit",
            peak_mb=r["peak_mb"],
        )
        for r in runs
    ]
    entries += [
        figure(
            f"per-unit cost at {last['units']:,} / at {first['units']:,}",
            growth,
            "x",
            target="at most 1.3x",
            met=growth <= 1.3,
        ),
        figure(
            f"launch at {last['units']:,} units: rate",
            last["per_s"],
            "units/s",
            target="at least half of smtplib's",
            met=share >= 0.5,
            baseline=baseline,
        ),
    ]
    return {"bench": "mail", "database": database, "results": entries}


if __name__ == "__main__":
    main()
