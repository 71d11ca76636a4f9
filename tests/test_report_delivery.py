"""The report goes to the coordinator once per report: by mail with the Word document, by
webhook, or to the outbox; and the monitor makes the final report by itself when it is due."""

from __future__ import annotations

import base64
import io
import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document

from config.campaign.loader import CampaignFileError, load_campaign_file
from config.clock import parse_instant
from config.settings import get_settings
from flows.launch import launch_flow
from flows.monitor import monitor_flow
from flows.report import report_flow
from tasks import review
from tasks.link.policy import Limits
from tests.campaigns import DATIAN, LAUNCH_DAY, dept, write_campaign
from tests.campaigns import DATIAN_SLUG as SLUG
from tests.helpers import at, send_in
from tests.receivers import HttpReceiver, SmtpReceiver

pytestmark = pytest.mark.prefect

COORDINATOR = "zlb@datian.example.cn"


def _launched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpReceiver, *coordinator: str
) -> None:
    """The 大田县 campaign launched, its mail through the test's relay and its coordinator
    reached at the office's address and at `coordinator` (webhooks)."""
    monkeypatch.setenv("DUBAN_SMTP_URL", smtp.relay_url())
    get_settings.cache_clear()
    data: dict[str, Any] = yaml.safe_load(DATIAN.read_text(encoding="utf-8"))
    data["coordinator"]["notify"] = [COORDINATOR, *coordinator]
    path = tmp_path / "datian.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))


def _document(mail: EmailMessage) -> tuple[str, bytes]:
    parts = [p for p in mail.iter_attachments()]
    assert len(parts) == 1
    return str(parts[0].get_filename()), bytes(parts[0].get_content())


def _paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def test_the_report_reaches_the_coordinator_once_with_the_word_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    _launched(tmp_path, monkeypatch, smtp, http.url("ok/zlb"))
    send_in("scjgj", "县市场监管局开展了质量月活动。", "2021-09-24T16:00", picture=True)
    review.accept(review.find_unit(SLUG, "scjgj") or {}, 1, "zlb", at("2021-09-25T09:00"))

    first = report_flow(SLUG, now=at("2021-09-26T10:00"))
    again = report_flow(SLUG, now=at("2021-09-26T11:00"))  # nothing new: the same report

    assert first.sent is not None and (first.sent.sent, first.sent.failed) == (2, [])
    assert again.sent is not None and (again.sent.sent, again.sent.already) == (0, 2)
    mails = smtp.to(COORDINATOR)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.subject == "【进展情况】大田县2021年“质量月”活动"
    assert "18个参加单位中，按时报送1个，逾期报送0个，未报送17个" in mail.body
    assert "附件：大田县2021年“质量月”活动进展情况.docx" in mail.body
    # The report is downloaded from the dashboard; no path on the server is given away.
    public = get_settings().public_url.rstrip("/")
    assert f"报告（Word）在工作台下载：{public}/c/{SLUG}/report.docx" in mail.body
    assert str(get_settings().data_dir) not in mail.body
    name, data = _document(mail.message)
    assert name == "大田县2021年“质量月”活动进展情况.docx"
    paragraphs = _paragraphs(data)
    assert paragraphs[0] == "大田县2021年“质量月”活动进展情况"
    # The first run's document: the second one, the same report, was not sent.
    assert paragraphs[1].startswith("（截至2021年9月26日")
    assert "县市场监管局开展了质量月活动。" in paragraphs

    posts = http.to("ok/zlb")
    assert len(posts) == 1
    assert posts[0]["title"] == "【进展情况】大田县2021年“质量月”活动"
    (attached,) = posts[0]["attachments"]
    assert attached["filename"] == name
    assert "县市场监管局开展了质量月活动。" in _paragraphs(base64.b64decode(attached["base64"]))

    # New facts make a new report, sent once more; the old one is not resent.
    send_in("gxj", "县工信局的总结。", "2021-09-27T10:00")
    review.accept(review.find_unit(SLUG, "gxj") or {}, 1, "zlb", at("2021-09-27T11:00"))
    for hour in ("12", "13"):
        report_flow(SLUG, now=at(f"2021-09-27T{hour}:00"))
    assert len(smtp.to(COORDINATOR)) == 2 and len(http.to("ok/zlb")) == 2
    assert "按时报送2个" in smtp.to(COORDINATOR)[1].body


def test_a_failed_delivery_is_retried_by_the_monitor_and_sent_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpReceiver, http: HttpReceiver
) -> None:
    _launched(tmp_path, monkeypatch, smtp, http.url("refuse/zlb"))

    made = report_flow(SLUG, now=at("2021-09-14T10:00"))
    assert made.sent is not None and made.sent.sent == 1
    ((channel, reason),) = made.sent.failed
    assert channel.startswith("json://127.0.0.1") and "500" in reason
    assert http.to("refuse/zlb") == []

    http.refusing = False
    early = monitor_flow(now=at("2021-09-14T10:02"))  # inside the backoff: not yet
    assert early.report_retries == [] and http.to("refuse/zlb") == []
    retried = monitor_flow(now=at("2021-09-14T10:10"))
    assert [(r.sent, r.already) for r in retried.report_retries] == [(1, 1)]
    monitor_flow(now=at("2021-09-14T11:00"))
    assert len(http.to("refuse/zlb")) == 1
    assert len(smtp.to(COORDINATOR)) == 1


def test_without_a_relay_the_report_goes_to_the_outbox_with_its_document(
    duban_env: Path,
) -> None:
    launch_flow(path=str(DATIAN), now=parse_instant(LAUNCH_DAY))
    made = report_flow(SLUG, now=at("2021-09-14T10:00"))
    assert made.sent is not None and len(made.sent.outbox) == 1
    eml = made.sent.outbox[0]
    assert eml.parent == duban_env / "outbox" / SLUG
    message = BytesParser(policy=default_policy).parsebytes(eml.read_bytes())
    assert message["To"] == COORDINATOR
    name, data = _document(message)  # type: ignore[arg-type]
    assert name.endswith("进展情况.docx") and _paragraphs(data)[0].endswith("进展情况")
    again = report_flow(SLUG, now=at("2021-09-14T11:00"))
    assert again.sent is not None and again.sent.outbox == []
    assert len(list(eml.parent.glob("report-*.eml"))) == 1


def _small(tmp_path: Path, smtp: SmtpReceiver, **extra: Any) -> Path:
    return write_campaign(
        tmp_path / "small.yaml",
        [dept(code, smtp.url(f"{code}@county.test")) for code in ("a", "b", "c")],
        coordinator={"name": "测试县质量办", "notify": [smtp.url("office@county.test")]},
        **extra,
    )


def _accept_all(codes: tuple[str, ...], when: str) -> None:
    from tasks.link.submission import find_unit, submit
    from tests.test_report import token_of

    limits = Limits.from_settings()
    for code in codes:
        submit(find_unit(token_of(code)), f"k-{code}", f"{code}局的总结。", [], limits, at(when))
        review.accept(review.find_unit("test-campaign", code) or {}, 1, "zlb", at(when))


def test_the_monitor_makes_the_final_report_once_every_unit_is_accepted(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    launch_flow(path=str(_small(tmp_path, smtp)), now=parse_instant(LAUNCH_DAY))
    _accept_all(("a", "b"), "2021-09-20T10:00")
    assert monitor_flow(now=at("2021-09-20T11:00")).reports == []  # c still owes
    _accept_all(("c",), "2021-09-21T10:00")

    made = monitor_flow(now=at("2021-09-21T11:00")).reports
    later = monitor_flow(now=at("2021-09-22T11:00")).reports

    assert [(r.slug, r.final) for r in made] == [("test-campaign", True)] and later == []
    (mail,) = smtp.to("office@county.test")
    assert mail.subject == "【总结报告】测试“质量月”活动"
    assert "3个参加单位中，按时报送3个，逾期报送0个，未报送0个" in mail.body
    name, data = _document(mail.message)
    assert name == "测试“质量月”活动总结报告.docx"
    assert "c局的总结。" in _paragraphs(data)


@pytest.mark.parametrize(
    ("schedule", "before", "due"),
    [
        # Three working days after 30 September 2021: 8 and 9 October (a make-up Saturday)
        # and 11 October, when office hours open.
        ({}, "2021-10-11T08:29", "2021-10-11T08:30"),
        ({"at": "2021-10-15"}, "2021-10-14T17:00", "2021-10-15T08:30"),
        ({"at": "2021-10-15T15:00"}, "2021-10-15T14:59", "2021-10-15T15:00"),
        ({"days": 1}, "2021-10-07T17:00", "2021-10-08T08:30"),  # not in the holiday
        # On the deadline's day: when the deadline has passed.
        ({"at": "2021-09-30"}, "2021-09-30T23:58", "2021-10-01T00:00"),
    ],
)
def test_the_final_report_makes_itself_at_the_campaigns_report_time(
    tmp_path: Path, smtp: SmtpReceiver, schedule: dict[str, Any], before: str, due: str
) -> None:
    extra = {"report": schedule} if schedule else {}
    launch_flow(path=str(_small(tmp_path, smtp, **extra)), now=parse_instant(LAUNCH_DAY))
    _accept_all(("a",), "2021-09-20T10:00")

    assert monitor_flow(now=at(before)).reports == []
    made = monitor_flow(now=at(due)).reports
    assert monitor_flow(now=at(due)).reports == []

    assert [r.final for r in made] == [True]
    (mail,) = [m for m in smtp.to("office@county.test") if m.subject.startswith("【总结报告】")]
    assert "未报送单位：b局、c局。" in mail.body


def test_a_report_day_before_the_deadline_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write_campaign(
        tmp_path / "early.yaml", [dept("a", "a@county.test")], report={"at": "2021-09-01"}
    )
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(path)
    assert str(caught.value).startswith(f"{path}:")
    assert "report: the report day (2021-09-01) comes before the deadline" in str(caught.value)


def test_a_delivery_left_planned_by_a_stopped_sender_is_sent_later_and_one_given_up_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpReceiver
) -> None:
    from sqlalchemy import text

    from models.db import get_engine
    from tasks.report.delivery import record_report
    from tasks.report.facts import collect
    from tasks.report.files import write_files

    _launched(tmp_path, monkeypatch, smtp)
    # The report recorded, then the sender stopped before sending it.
    made_at = at("2021-09-14T10:00")
    report = collect.fn(SLUG, now=made_at)
    record_report(report, write_files.fn(report), made_at)

    soon = monitor_flow(now=at("2021-09-14T10:02"))  # it may still be on its way
    later = monitor_flow(now=at("2021-09-14T10:10"))

    assert soon.report_retries == [] and [r.sent for r in later.report_retries] == [1]
    (mail,) = smtp.to(COORDINATOR)
    assert mail.subject == "【进展情况】大田县2021年“质量月”活动"

    with get_engine().begin() as conn:
        conn.execute(text("UPDATE reportdelivery SET state = 'failed', attempts = 8"))
    again = report_flow(SLUG, now=at("2021-09-14T11:00"))
    assert again.sent is not None and again.sent.sent == 0
    ((_, reason),) = again.sent.failed
    assert reason.startswith("gave up after 8 attempts")


def test_one_campaigns_failing_report_stops_neither_the_pass_nor_the_others_reports(
    tmp_path: Path, duban_env: Path, smtp: SmtpReceiver
) -> None:
    """A unit's stored picture goes missing (a disk restored from an old backup): that
    campaign's final report cannot be written. The pass still makes the other campaign's, and
    the next pass, once the file is back, makes this one."""
    from tasks.link.submission import find_unit, submit
    from tests.test_report import token_of

    healthy = write_campaign(
        tmp_path / "healthy.yaml",
        [dept("h1", smtp.url("h1@county.test"))],
        slug="healthy",
        coordinator={"name": "另一个县质量办", "notify": [smtp.url("h-office@county.test")]},
    )
    launch_flow(path=str(_small(tmp_path, smtp)), now=parse_instant(LAUNCH_DAY))
    launch_flow(path=str(healthy), now=parse_instant(LAUNCH_DAY))
    send_in("a", "a局的总结，附现场照片。", "2021-09-20T10:00", picture=True)
    review.accept(review.find_unit("test-campaign", "a") or {}, 1, "zlb", at("2021-09-20T10:00"))
    _accept_all(("b", "c"), "2021-09-20T10:00")
    limits = Limits.from_settings()
    submit(find_unit(token_of("h1")), "k-h1", "h1的总结。", [], limits, at("2021-09-20T10:00"))
    review.accept(review.find_unit("healthy", "h1") or {}, 1, "zlb", at("2021-09-20T10:00"))
    (picture,) = [p for p in (duban_env / "attachments").rglob("*") if p.is_file()]
    kept = picture.read_bytes()
    picture.unlink()

    first = monitor_flow(now=at("2021-09-21T09:00"))
    assert [r.slug for r in first.reports] == ["healthy"]
    assert len(smtp.to("h-office@county.test")) == 1 and smtp.to("office@county.test") == []

    picture.write_bytes(kept)
    second = monitor_flow(now=at("2021-09-21T09:15"))
    assert [r.slug for r in second.reports] == ["test-campaign"]
    (mail,) = smtp.to("office@county.test")
    assert mail.subject == "【总结报告】测试“质量月”活动"
    assert len(smtp.to("h-office@county.test")) == 1


def test_a_units_headline_from_its_link_page_heads_its_section_and_the_dashboard_serves_it(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    import httpx

    from tests.web_helpers import (
        OFFICE,
        SERVER_NOW,
        Dashboard,
        Department,
        coordinator_account,
        form_fields,
        launch_units,
    )
    from tests.web_server import web_server

    names = {"a": "县市场监管局", "b": "县发改局"}
    _, tokens = launch_units(tmp_path, smtp, ["a", "b"], names=names)
    coordinator_account()
    with web_server(DUBAN_NOW=SERVER_NOW) as base:
        a, b = Department(base, tokens["a"]), Department(base, tokens["b"])
        page = a.page().text
        assert 'name="headline"' in page  # the optional 标题 field
        summary = "本局于9月开展质量提升专项行动，检查企业40家。同时开展宣传。"
        assert a.submit(summary, headline="  开展质量提升专项行动\n检查企业40家 ").is_redirect
        assert b.submit("县发改局将质量工作纳入年度考核，召开专题会议2次。").is_redirect

        # The coordinator's notes for the report, written on the dashboard.
        desk = Dashboard(base)
        notes = desk.page("/c/test-campaign/report")
        fields = form_fields(notes, "/c/test-campaign/report")
        refused = desk.client.post("/c/test-campaign/report", data={"problems": "无令牌"})
        assert refused.status_code == 403
        saved = desk.client.post(
            "/c/test-campaign/report",
            data={
                **fields,
                "commended": ["a", "no-such-unit"],
                "problems": "个别单位报送材料不全。\r\n\r\n图片说明不够具体。",
                "next_steps": "",
            },
        )
        assert saved.status_code == 303
        assert 'value="a" checked' in desk.page("/c/test-campaign/report")

        made = report_flow("test-campaign", which="latest", now=parse_instant(SERVER_NOW))
        assert made.sent is not None and made.sent.sent == 1
        (mail,) = [m for m in smtp.to(OFFICE) if m.subject.startswith("【进展情况】")]
        _, attached = _document(mail.message)
        headings = [
            p.text for p in Document(io.BytesIO(attached)).paragraphs if p.style.name == "Heading 2"
        ]
        # The unit's own headline, on one line; else the first sentence, without the name.
        assert headings == [
            "（一）县市场监管局：开展质量提升专项行动 检查企业40家",
            "（二）县发改局：将质量工作纳入年度考核，召开专题会议2次",
        ]
        # The notes after the units' sections, numbered on; 下一步工作 left empty, left out.
        texts = [p.text for p in Document(io.BytesIO(attached)).paragraphs]
        start = texts.index("三、表扬单位")
        assert texts[start : start + 5] == [
            "三、表扬单位",
            "县市场监管局工作扎实、成效明显，予以表扬。",
            "四、存在的问题",
            "个别单位报送材料不全。",
            "图片说明不够具体。",
        ]
        assert "五、下一步工作" not in texts
        link = f"{get_settings().public_url.rstrip('/')}/c/test-campaign/report.docx"
        assert link in mail.body

        assert 'id="report-download"' in desk.page("/c/test-campaign")
        # The dashboard's figures are the report's, from the same computation.
        table = Document(io.BytesIO(attached)).tables[0]
        word = [(r.cells[0].text, r.cells[1].text) for r in table.rows[1:]]
        shown = re.findall(
            r"<tr><th>([^<]+)</th><td>(\d+)</td></tr>", desk.page("/c/test-campaign/report")
        )
        assert shown == word and ("按时报送（个）", "2") in word
        download = desk.get("/c/test-campaign/report.docx")
        assert download.status_code == 200 and download.content == attached
        assert "filename*=utf-8''" in download.headers["content-disposition"]
        stranger = httpx.get(f"{base}/c/test-campaign/report.docx", follow_redirects=False)
        assert stranger.status_code in (303, 401) and stranger.content != attached
