"""`duban serve` and the Prefect deployments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from cli.serve import next_tick
from tests.campaigns import LAUNCH_DAY, dept, write_campaign

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.pure
def test_passes_fall_on_the_clock() -> None:
    at = datetime(2021, 9, 27, 1, 7, 30, tzinfo=UTC)
    assert next_tick(at, 15 * 60) == 7 * 60 + 30  # to 01:15:00
    assert next_tick(datetime(2021, 9, 27, 1, 15, tzinfo=UTC), 15 * 60) == 15 * 60


@pytest.mark.prefect
def test_serve_runs_monitor_passes_until_stopped(tmp_path: Path, duban_env: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    from config.clock import parse_instant
    from flows.launch import launch_flow

    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")])
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "DUBAN_NOW": "2021-09-27T09:00:00+08:00",  # the reminder is due
    }
    log = tmp_path / "serve.log"
    with log.open("w") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--interval", "1"],
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "sent 1," not in log.read_text():
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)  # between passes: it stops at once, cleanly
        _, err = proc.communicate(timeout=60)
    out = log.read_text()
    assert proc.returncode == 0, err
    assert "monitor every 1 min" in out and "1 reminder" in out
    outbox = duban_env / "outbox" / "test-campaign"
    assert len(list(outbox.glob("a-reminder@*.eml"))) == 1


@pytest.mark.pure
def test_prefect_yaml_is_valid_and_its_entrypoints_load() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.flows import load_flow_from_entrypoint

    config = PrefectYamlModel.model_validate(yaml.safe_load((ROOT / "prefect.yaml").read_text()))
    by_name = {d.name: d for d in config.deployments}
    assert set(by_name) == {"launch", "monitor", "report"}
    monitor = by_name["monitor"]
    assert monitor.schedules and monitor.schedules[0].timezone == "Asia/Shanghai"
    assert monitor.concurrency_limit is not None
    for deployment in config.deployments:
        assert deployment.entrypoint is not None
        flow = load_flow_from_entrypoint(str(ROOT / deployment.entrypoint))
        assert flow.name == deployment.name
