"""DingTalk, WeCom and Feishu bots through the real launch and monitor flows, against local
receivers that answer as the platforms do: HTTP 200 with the verdict in the body."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from config.clock import parse_instant
from config.settings import get_settings
from flows.launch import launch_flow
from flows.monitor import monitor_flow
from tests.campaigns import dept, links_in, notice_ledger, write_campaign
from tests.helpers import duban
from tests.receivers import BotReceiver, SmtpReceiver
from tests.web_helpers import Dashboard, coordinator_account
from tests.web_server import web_server

pytestmark = pytest.mark.prefect

TZ = "Asia/Shanghai"
LAUNCH = "2021-09-13T09:00"
OFFICE = "office@duban.test"


@pytest.fixture
def bots() -> Iterator[BotReceiver]:
    receiver = BotReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def campaign(tmp_path: Path, bots: BotReceiver) -> Path:
    bots.secrets["ok3"] = "feishu-secret"
    bots.secrets["signbad6"] = "the-real-secret"
    bots.secrets["ok9"] = "dingsecret9"
    departments = [
        dept("d1", bots.url("dingtalk", "ok1"), phone="138 0013 8000"),
        dept("d2", bots.url("wecombot", "ok2"), phone="+86 13900139000"),
        dept("d3", bots.url("feishu", "ok3") + "&secret=feishu-secret"),
        dept("d4", bots.url("dingtalk", "keyword4")),
        dept("d5", bots.url("wecombot", "token5")),
        dept("d6", bots.url("feishu", "signbad6") + "&secret=a-wrong-secret"),
        dept("d7", bots.url("dingtalk", "limit7")),
        dept("d8", bots.url("wecombot", "drop8")),
        dept("d9", bots.url("dingtalk", "ok9", extra="dingsecret9@"), phone="0598-1234567"),
        dept("d10", bots.url("feishu", "ip10")),
    ]
    coordinator = {"name": "办公室", "notify": [OFFICE]}
    return write_campaign(tmp_path / "bots.yaml", departments, coordinator=coordinator)


def test_bots_are_believed_only_when_their_answer_says_sent(
    tmp_path: Path, bots: BotReceiver, relay: SmtpReceiver
) -> None:
    bots.limit_after = 0  # limit7 is over its rate from the first message
    path = campaign(tmp_path, bots)
    summary = launch_flow(path=str(path), now=parse_instant(LAUNCH, TZ))

    # Accepted: sent once, the unit's mobile @-ed where the platform can.
    assert summary.delivery.sent == 4 + 4  # four notices, four reports to the coordinator
    for token in ("ok1", "ok2", "ok3", "ok9"):
        assert len(bots.to(token)) == 1, token
    ding = bots.to("ok1")[0].payload
    assert ding["at"]["atMobiles"] == ["13800138000"]
    assert "@13800138000" in ding["text"]["content"]
    assert "【任务通知】" in ding["text"]["content"]
    assert bots.to("ok2")[0].payload["text"]["mentioned_mobile_list"] == ["13900139000"]
    assert bots.to("ok9")[0].payload["at"]["atMobiles"] == []  # a landline is not @-ed
    rows = notice_ledger()
    for code in ("d1", "d2", "d3", "d9"):
        assert rows[code]["state"] == "sent", rows[code]

    # Refused for the channel's own configuration: failed with the platform's code, marked,
    # no retry planned.
    refused = {"d4": "DingTalk 310000", "d5": "WeCom 93000", "d6": "Feishu 19021"}
    refused["d10"] = "Feishu 19022"
    for code, said in refused.items():
        row = rows[code]
        assert row["state"] == "failed", row
        assert str(row["last_error"]).startswith(f"misconfigured: {said}"), row
        assert row["next_attempt_at"] is None
    # The platform's message is kept, the channel's key never.
    assert "token5" not in str(rows["d5"]["last_error"])
    assert "关键词不匹配" in str(rows["d4"]["last_error"])

    # Rate-limited or cut off: failed, retried after the backoff.
    assert str(rows["d7"]["last_error"]).startswith("DingTalk 130101")
    assert rows["d8"]["last_error"] == "WeCom: the connection closed before an answer"
    for code in ("d7", "d8"):
        assert rows[code]["state"] == "failed"
        assert rows[code]["next_attempt_at"] is not None

    # The coordinator is told of each misconfigured channel, once.
    told = [m for m in relay.to(OFFICE) if m.subject.startswith("【渠道配置有误】")]
    assert sorted(m.subject for m in told) == sorted(
        f"【渠道配置有误】测试“质量月”活动（{c}局）" for c in refused
    )
    assert any("DingTalk 310000" in m.body for m in told)

    # Within the backoff a monitor pass sends nothing; after it, the limit has lifted and the
    # connection holds: the two go out once. The misconfigured are not tried again.
    monitor_flow(now=parse_instant("2021-09-13T09:02", TZ))
    assert bots.requests["limit7"] == 1 and bots.requests["drop8"] == 1
    bots.limiting = False
    bots.dropping = False
    for at in ("2021-09-13T09:10", "2021-09-13T10:30", "2021-09-14T09:00"):
        monitor_flow(now=parse_instant(at, TZ))
    assert len(bots.to("limit7")) == 1 and len(bots.to("drop8")) == 1
    assert bots.requests["limit7"] == 2 and bots.requests["drop8"] == 2
    for token in ("keyword4", "token5", "signbad6", "ip10"):
        assert bots.requests[token] == 1, token
    for token in ("ok1", "ok2", "ok3", "ok9"):
        assert bots.requests[token] == 1, token
    assert len([m for m in relay.to(OFFICE) if m.subject.startswith("【渠道配置有误】")]) == 4

    # `status` shows each channel's answer.
    shown = duban("status", "test-campaign", "--now", "2021-09-14T10:00+08:00")
    assert shown.returncode == 0, shown.stderr
    assert "d4局：任务通知发往 dingtalk://" in shown.stdout
    assert "渠道配置有误，不再重试：DingTalk 310000" in shown.stdout

    # The dashboard shows each message with the platform's own answer, in words.
    coordinator_account()
    with web_server() as base:
        office = Dashboard(base)
        unit = html.unescape(office.unit("d4"))
        assert "渠道配置有误，不再重试" in unit and "DingTalk 310000" in unit
        assert "misconfigured:" not in unit
        assert "已送达（2次）" in office.unit("d7")  # rate-limited once, then taken
        listing = html.unescape(office.page("/c/test-campaign"))
        assert "任务通知：渠道配置有误，不再重试：Feishu 19022" in listing
        office.close()
    assert "DingTalk 310000" in shown.stdout and "Feishu 19021" in shown.stdout
    data = {r["code"]: r for r in json.loads(duban("status", "test-campaign", "--json").stdout)}
    assert data["d4"]["notices_misconfigured"] == 1
    shown_d4 = [(m["message"], m["to"], m["state"]) for m in data["d4"]["messages"]]
    assert shown_d4 == [
        ("notice", "department", "misconfigured"),
        ("misconfigured", "coordinator", "sent"),  # the report of it
    ]
    assert data["d7"]["messages"][0]["state"] == "sent"

    # Launching again is the coordinator's word that the channels were fixed: each
    # misconfigured notice is tried once more; the coordinator is not told twice.
    launch_flow(path=str(path), now=parse_instant("2021-09-14T10:00", TZ))
    for token in ("keyword4", "token5", "signbad6", "ip10"):
        assert bots.requests[token] == 2, token
    assert len([m for m in relay.to(OFFICE) if m.subject.startswith("【渠道配置有误】")]) == 4


def test_a_bot_on_its_own_host_by_setting(
    tmp_path: Path, bots: BotReceiver, relay: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """政务钉钉 and the like: the host set once for the installation, the addresses unchanged."""
    monkeypatch.setenv("DUBAN_DINGTALK_API_BASE", bots.base)
    monkeypatch.setenv("DUBAN_WECOM_API_BASE", bots.base)
    monkeypatch.setenv("DUBAN_FEISHU_API_BASE", bots.base)
    get_settings.cache_clear()
    departments = [
        dept("g1", "dingtalk://okg1"),
        dept("g2", "wecombot://okg2"),
        dept("g3", "feishu://okg3"),
        dept("g4", "dingtalk://downg4"),
    ]
    path = write_campaign(tmp_path / "gov.yaml", departments, slug="gov")
    summary = launch_flow(path=str(path), now=parse_instant(LAUNCH, TZ))
    assert summary.delivery.sent == 3
    assert [len(bots.to(t)) for t in ("okg1", "okg2", "okg3")] == [1, 1, 1]
    row = notice_ledger()["g4"]
    # A 5xx is the host's trouble, not the channel's: retried later.
    assert row["last_error"] == "DingTalk HTTP 502"
    assert row["next_attempt_at"] is not None


def test_webhooks_as_the_platforms_show_them_and_long_notices_that_fit(
    tmp_path: Path, bots: BotReceiver, relay: SmtpReceiver
) -> None:
    """A clerk pastes each bot's webhook as its platform's console shows it; the notice with
    the demo's own duties (over 2,048 bytes for a unit with many) goes to every platform, cut
    only where the platform requires, with the unit's link and deadline kept."""
    demo = yaml.safe_load(Path("config/examples/datian-2021.yaml").read_text(encoding="utf-8"))
    duties = next(d["duties"] for d in demo["departments"] if len(d.get("duties", [])) >= 10)
    host = bots.base
    webhooks = {
        "w1": f"{host}/robot/send?access_token=okw1",  # 政务钉钉 on its own host
        "w2": f"{host}/cgi-bin/webhook/send?key=okw2",
        "w3": f"{host}/open-apis/bot/v2/hook/okw3",
        "w4": f"lark://okw4/?base={host}",  # Lark, Feishu's international edition
    }
    departments = [dept(code, url, duties=list(duties)) for code, url in webhooks.items()]
    path = write_campaign(
        tmp_path / "long.yaml",
        departments,
        slug="long",
        common_duties=demo["common_duties"],
        coordinator={"name": "办公室", "notify": [OFFICE]},
    )
    summary = launch_flow(path=str(path), now=parse_instant(LAUNCH, TZ))

    assert summary.delivery.sent == 4, summary.delivery.failed
    texts = {t: bots.text(p) for t in ("okw1", "okw2", "okw3", "okw4") for p in bots.to(t)}
    assert len(texts) == 4
    mail = [m.body for m in relay.to(OFFICE)]  # nothing refused: the coordinator not told
    assert not mail
    for token, text_ in texts.items():
        assert len(links_in(text_)) == 1, token
        assert "请于2021年9月30日" in text_ and "前报送" in text_, token  # the deadline
        assert text_.rstrip().splitlines()[-2] == "测试县质量强县工作领导小组办公室", token
    # WeCom's text is within its limit, cut in the middle and saying so; the others whole.
    assert len(texts["okw2"].encode()) <= 2048
    assert "详见办理链接" in texts["okw2"]
    assert duties[0] in texts["okw2"]
    for token in ("okw1", "okw3", "okw4"):
        assert all(d in texts[token] for d in duties + demo["common_duties"]), token
    # `status` names the channel by its bot address, the key not shown.
    shown = duban("status", "long", "--now", "2021-09-14T10:00+08:00")
    assert shown.returncode == 0 and "okw2" not in shown.stdout, shown.stdout
