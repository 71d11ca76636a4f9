"""The production setup, end to end: a Prefect server on PostgreSQL, the deployments of
`prefect.yaml` on a process work pool, two workers, and launch and monitor started through
the Prefect API. Checked where a coordinator would: in duban's database and at the SMTP
server."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from models.db import get_engine
from tests.campaigns import LAUNCH_DAY, dept, write_campaign
from tests.prefect_server import postgres_missing, prefect, prefect_server, worker
from tests.receivers import SmtpReceiver

MISSING = postgres_missing()
pytestmark = pytest.mark.skipif(
    MISSING is not None, reason=f"the Prefect server test needs PostgreSQL: {MISSING}"
)
UNITS = 30
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _run(env: dict[str, str], deployment: str, **params: str) -> str:
    """Start a run of `deployment` through the API; its flow run id."""
    args = [a for k, v in params.items() for a in ("--param", f"{k}={v}")]
    output = prefect(env, "deployment", "run", deployment, *args)
    found = re.search(r"UUID: ([0-9a-f-]{36})", output)
    assert found, output
    return found.group(1)


def _state(env: dict[str, str], run_id: str) -> str:
    response = httpx.get(f"{env['PREFECT_API_URL']}/flow_runs/{run_id}", timeout=10)
    if response.status_code == 503:  # the server sheds load on a busy machine: ask again
        return "BUSY"
    response.raise_for_status()
    return str(response.json()["state"]["type"])


def _wait(env: dict[str, str], run_ids: list[str], timeout: float = 300) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        states = [_state(env, i) for i in run_ids]
        if all(s in TERMINAL for s in states) or time.monotonic() > deadline:
            return states
        time.sleep(1)


def _deployments(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = httpx.post(f"{env['PREFECT_API_URL']}/deployments/filter", json={}, timeout=10)
    response.raise_for_status()
    return {d["name"]: d for d in response.json()}


def _mails_by_unit(smtp: SmtpReceiver, heading: str) -> Counter[str]:
    return Counter(m.rcpt[0] for m in smtp.mails if m.subject.startswith(heading))


def test_launch_and_monitor_run_on_a_prefect_server_with_two_workers(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    campaign = write_campaign(
        tmp_path / "campaign.yaml",
        [dept(f"d{i:02d}", smtp.url(f"d{i:02d}@county.test")) for i in range(UNITS)],
    )
    home = tmp_path / "prefect"
    home.mkdir()
    with prefect_server(home) as env:
        prefect(env, "work-pool", "create", "duban", "--type", "process")
        prefect(env, "deploy", "--all")
        deployments = _deployments(env)
        assert set(deployments) == {"launch", "monitor", "report"}
        monitor = deployments["monitor"]
        assert monitor["schedules"][0]["schedule"]["cron"] == "*/15 * * * *"
        assert monitor["global_concurrency_limit"]["limit"] == 1
        assert monitor["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"

        with worker(env, "duban", "w1", home), worker(env, "duban", "w2", home):
            launch = _run(env, "launch/launch", path=str(campaign), now=LAUNCH_DAY)
            assert _wait(env, [launch]) == ["COMPLETED"], (home / "w1.log").read_text()

            notices = _mails_by_unit(smtp, "【任务通知】")
            assert len(notices) == UNITS and set(notices.values()) == {1}
            with get_engine().connect() as conn:
                rows = conn.execute(
                    text("SELECT count(*), count(DISTINCT department_id) FROM assignment")
                ).one()
                sent = conn.execute(
                    text("SELECT count(*) FROM notification WHERE state = 'sent'")
                ).scalar_one()
            assert tuple(rows) == (UNITS, UNITS) and sent == UNITS

            # Two monitor runs asked for at once, on two workers: the deployment's
            # concurrency limit cancels the second, or, if the first has finished, it finds
            # nothing left to send. Either way every unit is reminded once.
            when = "2021-09-27T09:00:00+08:00"  # 提醒: three working days before 30 September
            runs = [_run(env, "monitor/monitor", now=when) for _ in "ab"]
            states = _wait(env, runs)
            assert "COMPLETED" in states and set(states) <= {"COMPLETED", "CANCELLED"}, states

    reminders = _mails_by_unit(smtp, "【提醒】")
    assert len(reminders) == UNITS and set(reminders.values()) == {1}
