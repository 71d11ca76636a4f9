"""SMS through Aliyun: the campaign's templates filled, sent through Alibaba Cloud's SDK to an
imitation of Dysmsapi that checks the request's signature, and Aliyun's answers recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from config.campaign.loader import CampaignFileError, parse_campaign
from config.clock import parse_instant
from config.settings import get_settings
from flows.launch import launch_flow
from flows.monitor import monitor_flow
from models.db import get_engine
from tests.campaigns import LAUNCH_DAY, dept, links_in, snapshot, write_campaign
from tests.helpers import duban
from tests.receivers import AliyunSmsReceiver, SmtpReceiver

NOW = parse_instant(LAUNCH_DAY)

TEMPLATES: dict[str, Any] = {
    "notice": {
        "code": "SMS_100",
        "params": {"unit": "unit", "time": "deadline", "url": "link", "code": "link_token"},
    },
    "returned": {"code": "SMS_105", "params": {"unit": "unit", "url": "link"}},
    "extended": {"code": "SMS_106", "params": {"unit": "unit", "time": "deadline"}},
    "reminder": {"code": "SMS_101", "params": {"unit": "unit", "time": "deadline"}},
    "urgent": {"code": "SMS_102", "params": {"unit": "unit", "time": "deadline"}},
    "overdue": {"code": "SMS_103", "params": {"unit": "unit", "days": "days_overdue"}},
    "escalation": {"code": "SMS_104", "params": {"unit": "unit", "days": "days_overdue"}},
}
SMS = {"sign_name": "测试县质监办", "templates": TEMPLATES}


def _rows(code: str) -> list[tuple[str, str, str, str | None]]:
    """(kind, channel, state, last_error) of every message to the department `code`."""
    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT n.kind, n.channel, n.state, n.last_error FROM notification n "
                "JOIN assignment a ON a.id = n.assignment_id "
                "JOIN department d ON d.id = a.department_id WHERE d.code = :code "
                "ORDER BY n.id"
            ),
            {"code": code},
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.prefect
def test_an_sms_unit_gets_one_sms_with_its_params_and_errors_keep_aliyuns_code(
    tmp_path: Path, relay: SmtpReceiver, aliyun_sms: AliyunSmsReceiver
) -> None:
    aliyun_sms.answers = {
        "13800000002": "isv.BUSINESS_LIMIT_CONTROL",
        "13800000003": "isv.SMS_TEMPLATE_ILLEGAL",
    }
    departments = [
        dept("a", "a@county.test", "sms:13800000001", name="县公安局"),
        dept("b", "sms:+86 138-0000-0002"),
        dept("c", "sms:13800000003"),
    ]
    path = write_campaign(tmp_path / "c.yaml", departments, sms=SMS)

    first = launch_flow(path=str(path), now=NOW)
    again = launch_flow(path=str(path), now=NOW)

    (sms,) = aliyun_sms.to("13800000001")  # once, though the launch ran twice
    (mail,) = relay.to("a@county.test")
    (link,) = links_in(mail.body)
    assert sms["SignName"] == "测试县质监办" and sms["TemplateCode"] == "SMS_100"
    assert sms["TemplateParam"] == {
        "unit": "县公安局",
        "time": "2021年9月30日（星期四）24时",
        "url": f"http://duban.test/d/{link}",
        "code": link,
    }
    assert aliyun_sms.refused == []  # every request carried a valid signature
    assert first.delivery.sent == 2 and len(first.delivery.failed) == 2
    assert again.delivery.sent == 0
    (b,) = _rows("b")
    assert b[2] == "failed" and b[3] == "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1"
    (c,) = _rows("c")
    assert c[2] == "failed" and c[3] is not None
    # A refused template is the campaign's to fix: marked, so the monitor does not retry it.
    assert c[3].startswith("misconfigured: isv.SMS_TEMPLATE_ILLEGAL: ")
    # The throttled one was tried again by the second launch; Aliyun saw it twice, `c` too.
    assert len(aliyun_sms.to("13800000002")) == 2


def test_a_wrong_secret_is_refused_by_the_receiver_and_marked_misconfigured(
    aliyun_sms: AliyunSmsReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.messages.sms import Sms, send_sms

    message = Sms("13800000009", "测试县质监办", "SMS_100", {"unit": "县公安局"})
    assert send_sms(message).ok
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ACCESS_KEY_SECRET", "a-wrong-secret")
    get_settings.cache_clear()
    wrong = send_sms(message)
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ACCESS_KEY_ID", "LTAIunknown")
    get_settings.cache_clear()
    unknown = send_sms(message)

    assert aliyun_sms.refused == ["SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound"]
    assert not wrong.ok and wrong.misconfigured
    assert wrong.error is not None and wrong.error.startswith("SignatureDoesNotMatch: ")
    assert not unknown.ok and unknown.misconfigured
    assert unknown.error is not None and "InvalidAccessKeyId.NotFound" in unknown.error
    assert "LTAIunknown" not in unknown.error and "a-wrong-secret" not in wrong.error
    assert len(aliyun_sms.to("13800000009")) == 1


def test_an_unreachable_endpoint_is_a_plain_failure_without_the_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tasks.messages.sms import Sms, send_sms
    from tests.receivers import free_port

    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ACCESS_KEY_ID", "LTAIkey")
    monkeypatch.setenv("DUBAN_ALIYUN_SMS_ACCESS_KEY_SECRET", "secret")
    get_settings.cache_clear()
    token = "T0kenOfTheUnit_abcdefghijklmnopqrstuvwxyz01"
    params = {"unit": "县公安局", "url": f"http://duban.test/d/{token}"}
    failed = send_sms(Sms("13800000001", "测试县质监办", "SMS_100", params, (token,)))

    assert not failed.ok and not failed.misconfigured  # tried again by the backoff
    assert failed.error is not None and "Connection refused" in failed.error
    assert token not in failed.error and "13800000001" not in failed.error


@pytest.mark.prefect
def test_a_rung_by_sms_tells_the_head_by_sms_only_with_the_days_overdue(
    tmp_path: Path, relay: SmtpReceiver, aliyun_sms: AliyunSmsReceiver
) -> None:
    ladder = [
        {"name": "reminder", "days": -3, "to": ["department"], "wording": "reminder"},
        {"name": "escalation", "days": 3, "to": ["head"], "wording": "escalation", "via": "sms"},
    ]
    head = {"name": "分管领导", "notify": ["head@county.test", "sms:13900000001"]}
    path = write_campaign(
        tmp_path / "c.yaml",
        [dept("a", "a@county.test", head=head)],
        sms=SMS,
        escalation=ladder,
        coordinator={"name": "县质监办", "notify": ["office@county.test"]},
    )
    launch_flow(path=str(path), now=NOW)

    monitor_flow(now=parse_instant("2021-10-11T09:00:00+08:00"))  # 3 working days after
    monitor_flow(now=parse_instant("2021-10-11T10:00:00+08:00"))

    (sms,) = aliyun_sms.to("13900000001")
    assert sms["TemplateCode"] == "SMS_104"
    assert sms["TemplateParam"] == {"unit": "a局", "days": "11"}  # 9-30 to 10-11
    assert relay.to("head@county.test") == []  # by SMS only


def _refusal(tmp_path: Path, **extra: Any) -> str:
    path = write_campaign(tmp_path / "c.yaml", extra.pop("departments"), **extra)
    with pytest.raises(CampaignFileError) as refused:
        parse_campaign(path.read_text(encoding="utf-8"), path)
    return str(refused.value)


@pytest.mark.pure
def test_bad_sms_configuration_is_refused_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    no_section = _refusal(tmp_path, departments=[dept("a", "sms:13800000001")])
    assert no_section.startswith(f"{f}:9: departments[0]（a局）.notify[0]: an SMS number needs")

    bad_number = _refusal(tmp_path, departments=[dept("a", "sms:1380000")], sms=SMS)
    unit = f"{f}:9: departments[0]（a局）.notify[0]"
    assert f"{unit}: 'sms:1380000' is not a mainland mobile" in bad_number

    without_urgent = {**SMS, "templates": {k: v for k, v in TEMPLATES.items() if k != "urgent"}}
    no_template = _refusal(tmp_path, departments=[dept("a", "sms:13800000001")], sms=without_urgent)
    assert no_template == (
        f"{f}:9: departments[0]（a局）.notify[0]: this number would get the `urgent` message, but "
        "`sms.templates` has no `urgent` template: add urgent: {code: SMS_…, params: {…}}"
    )

    no_params = {**SMS, "templates": {**TEMPLATES, "notice": {"code": "SMS_100"}}}
    missing = _refusal(tmp_path, departments=[dept("a", "sms:13800000001")], sms=no_params)
    assert "sms.templates.notice.params: 缺少必填项" in missing

    unknown = {**SMS, "templates": {**TEMPLATES, "notice": {"code": "SMS_1", "params": {"x": "y"}}}}
    wrong = _refusal(tmp_path, departments=[dept("a", "sms:13800000001")], sms=unknown)
    assert "sms.templates.notice.params.x: 「y」不是可选的值之一（可选：'unit', 'deadline'" in wrong

    coordinator = {"name": "办", "notify": ["sms:13800000001"]}
    to_office = _refusal(
        tmp_path, departments=[dept("a", "a@county.test")], sms=SMS, coordinator=coordinator
    )
    assert "coordinator.notify[0]: the coordinator is told by e-mail or chat, not SMS" in to_office


def test_launch_refuses_an_sms_number_without_its_template_and_writes_nothing(
    tmp_path: Path,
) -> None:
    templates = {k: v for k, v in TEMPLATES.items() if k != "notice"}
    path = write_campaign(
        tmp_path / "c.yaml",
        [dept("a", "a@county.test"), dept("b", "b@county.test", "sms:13800000002")],
        sms={"sign_name": "测试县质监办", "templates": templates},
    )
    before = snapshot()
    folder = sorted(p.name for p in get_settings().data_dir.rglob("*"))

    run = duban("launch", str(path), "--now", LAUNCH_DAY)

    assert run.returncode == 2, run.stderr
    unit = f"{path}:14: departments[1]（b局）.notify[1]"
    assert f"{unit}: this number would get the `notice` message" in run.stderr
    assert "Traceback" not in run.stderr
    assert snapshot() == before
    assert sorted(p.name for p in get_settings().data_dir.rglob("*")) == folder


@pytest.mark.pure
def test_a_new_contact_by_sms_is_refused_where_the_campaign_lacks_its_templates(
    tmp_path: Path,
) -> None:
    from tasks.review import ActionRefused, parse_contacts

    def spec(**extra: Any) -> Any:
        path = write_campaign(tmp_path / "c.yaml", [dept("a", "a@county.test")], **extra)
        return parse_campaign(path.read_text(encoding="utf-8"), path).campaign.settings()

    assert parse_contacts("sms:13800000001", spec(sms=SMS)) == ["sms:13800000001"]
    with pytest.raises(ActionRefused, match="缺少 sms"):
        parse_contacts("b@county.test\nsms:13800000001", spec())
    only_notice = {"sign_name": "测试县质监办", "templates": {"notice": TEMPLATES["notice"]}}
    with pytest.raises(ActionRefused, match="缺少 returned、extended、reminder、urgent、overdue"):
        parse_contacts("sms:13800000001", spec(sms=only_notice))
