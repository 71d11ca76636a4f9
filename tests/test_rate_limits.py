"""A campaign caps the send rate per channel, and several senders together keep to it."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from config.campaign.loader import CampaignFileError, load_campaign_file
from tasks.messages.rate_limits import cap_of
from tests.campaigns import LAUNCH_DAY, dept, write_campaign
from tests.receivers import HttpReceiver

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.prefect
def test_two_launches_at_once_keep_to_a_shared_bots_cap(tmp_path: Path, http: HttpReceiver) -> None:
    """Twelve units reached through one group bot capped at 20 a minute: two launch processes
    split the notices between them, and the bot gets one every three seconds, each unit's once.
    (At 20 a minute the sending lasts about 36 s, so the second process, which may start
    many seconds later on a loaded machine, still finds notices left to send.)"""
    from prefect.settings import PREFECT_API_URL

    bot = http.url("ok/group-bot")
    path = write_campaign(
        tmp_path / "capped.yaml",
        [dept(f"d{i:02d}", bot) for i in range(12)],
        rate_limits={"json": 20},
    )
    # Both processes use the test session's Prefect server, where the limit lives.
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [sys.executable, "-m", "cli.main", "launch", str(path), "--now", LAUNCH_DAY]
    runs = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in "ab"
    ]
    outputs = [run.communicate(timeout=240)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    # Both processes sent some: the cap held across them, not within one.
    sent = [int(re.search(r"发出(\d+)条", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(sent) == 12 and min(sent) > 0, outputs
    posts = http.to("ok/group-bot")
    units = Counter(p["message"].split("：", 1)[0] for p in posts)
    assert len(posts) == 12 and set(units.values()) == {1}
    times = sorted(http.arrivals)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # One slot, freed at the cap's pace: no two messages closer than the cap allows (a little
    # slack for the server's clock ticks), and no burst at the start.
    assert min(gaps) > 0.8, gaps
    assert times[-1] - times[0] > 10


@pytest.mark.pure
def test_caps_by_channel_kind_with_defaults_for_chat_bots() -> None:
    spec = {"json": 30, "email": 600}  # the campaign's rate_limits
    assert cap_of("dingtalk://token/", spec) == 20  # DingTalk bots take about 20 a minute
    assert cap_of("wecombot://key", spec) == 20
    assert cap_of("json://hooks.example.cn/x", spec) == 30
    assert cap_of("office@county.gov.cn", spec) == 600  # the relay's cap
    assert cap_of("mailto://relay/x", {}) is None
    assert cap_of("dingtalk://token/", {"dingtalk": 10}) == 10
    # Secure and plain schemes of one service are one kind.
    assert cap_of("jsons://hooks.example.cn/x", spec) == 30


@pytest.mark.pure
@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"DingTalk!": 20}, "'DingTalk!' is not a channel kind"),
        ({"dingtalk": 0}, "「0」太小：应不小于1"),
        ({"dingtalkk": 5}, "'dingtalkk' is not a channel kind"),
    ],
)
def test_a_bad_rate_limit_is_refused_with_its_line(
    tmp_path: Path, limits: dict[str, int], message: str
) -> None:
    path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")], rate_limits=limits)
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(path)
    assert f"{path}:" in str(caught.value) and "rate_limits" in str(caught.value)
    assert message in str(caught.value)


def _resend_to_all(codes: list[str], key: str) -> list[int]:
    """The coordinator's 重发通知 for each unit, as the dashboard does (send after planning)."""
    from config.clock import parse_instant
    from tasks import review

    now = parse_instant("2021-09-20T10:00", "Asia/Shanghai")
    sent = []
    for code in codes:
        unit = review.find_unit("test-campaign", code)
        assert unit is not None
        sent.append(review.send_now(review.resend_notice(unit, f"{key}-{code}", now), now).sent)
    return sent


@pytest.mark.prefect
def test_without_a_prefect_server_a_process_keeps_the_cap_itself(
    tmp_path: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web app on one machine has no Prefect server: its resends to a capped bot are
    spaced in the process, and a turn that would come too late leaves the message planned."""
    from sqlalchemy import text

    from config.clock import parse_instant
    from flows.launch import launch_flow
    from models.db import get_engine
    from tasks.messages import rate_limits

    bot = http.url("ok/local-bot")
    codes = [f"d{i}" for i in range(3)]
    path = write_campaign(
        tmp_path / "c.yaml", [dept(c, bot) for c in codes], rate_limits={"json": 120}
    )
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    before = len(http.arrivals)

    # As `duban web` runs on one machine: no PREFECT_API_URL. (The test session has its
    # Prefect server, which the senders' threads would otherwise see.)
    monkeypatch.setattr(rate_limits, "prefect_server", lambda: False)
    assert _resend_to_all(codes, "a") == [1, 1, 1]
    times = http.arrivals[before:]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # 120 a minute: a turn every 0.5 s. A turn's message reaches the receiver a little later
    # on a loaded machine, so one gap may shrink by that delay; two span a whole second.
    assert len(times) == 3 and min(gaps) > 0.35 and times[-1] - times[0] > 0.9, gaps

    # A turn further off than a sender may wait: not sent, not claimed, still planned.
    monkeypatch.setattr(rate_limits, "WAIT_SECONDS", 0.2)
    time.sleep(0.6)  # the last turn of the first round has passed
    assert _resend_to_all(codes[:2], "b") == [1, 0]
    assert len(http.arrivals) == before + 4
    with get_engine().connect() as conn:
        waiting = conn.execute(
            text("SELECT state FROM notification WHERE kind LIKE 'resent:b-%' ORDER BY id")
        ).scalars()
        assert list(waiting) == ["sent", "pending"]
