"""`duban demo`: the 大田县 campaign from launch to final report, as a coordinator runs it."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
from docx import Document

from tests.helpers import duban

pytestmark = pytest.mark.prefect


def test_duban_demo_rehearses_the_campaign_from_launch_to_final_report(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    run = duban("demo", "--dir", str(folder))

    assert run.returncode == 0, run.stderr
    days = [line[:14] for line in run.stdout.splitlines() if line[:4] == "2021"]
    assert days[0] == "2021-09-13 Mon" and days[-1] == "2021-10-11 Mon"
    assert "launch: 18 departments, 18 notices" in run.stdout
    # The ladder on the real 2021 calendar: 提醒 three working days before 30 September,
    # 催办 on the day, 督办 on 8 October (after the National Day holiday), then the report.
    assert "2021-09-27 Mon  monitor: 提醒 ×14" in run.stdout
    assert "2021-09-30 Thu  monitor: 催办 ×9" in run.stdout
    assert "2021-10-08 Fri  monitor: 督办 ×3, 逾期未报（抄送本办） ×3" in run.stdout
    assert "final report made" in run.stdout

    with sqlite3.connect(folder / "duban.db") as db:
        statuses = Counter(s for (s,) in db.execute("SELECT status FROM assignment"))
        late = db.execute("SELECT count(*) FROM assignment WHERE late").fetchone()[0]
        returned = db.execute("SELECT count(*) FROM submission WHERE review = 'returned'")
        assert returned.fetchone()[0] == 1
    assert statuses == {"accepted": 17, "assigned": 1} and late == 2

    # The outbox copies to any disk (no `:` in a name) and dates each mail by the
    # campaign's clock: the 督办 of 8 October is dated 8 October 2021.
    outbox = folder / "outbox" / "datian-quality-month-2021"
    names = [p.name for p in outbox.iterdir()]
    assert names and not [n for n in names if set(n) & set(':*?"<>|\\')], names
    for eml in outbox.glob("*overdue*.eml"):
        dated = BytesParser(policy=default_policy).parsebytes(eml.read_bytes())["Date"]
        assert dated.datetime.date().isoformat() == "2021-10-08", (eml.name, str(dated))

    reports = folder / "reports" / "datian-quality-month-2021"
    assert {p.suffix for p in reports.iterdir() if p.is_file()} == {".docx", ".html", ".csv"}
    (mail_file,) = (folder / "outbox" / "datian-quality-month-2021").glob("report-*.eml")
    mail = BytesParser(policy=default_policy).parsebytes(mail_file.read_bytes())
    assert mail["Subject"] == "【总结报告】大田县2021年“质量月”活动"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content())  # type: ignore[attr-defined]
    assert "18个参加单位中，按时报送15个，逾期报送2个，未报送1个" in text
    assert "退回修改后重新报送1个" in text
    assert "未报送单位：县市场监管局直属事业单位。" in text
    (document,) = mail.iter_attachments()  # type: ignore[attr-defined]
    paragraphs = [p.text for p in Document(io.BytesIO(document.get_content())).paragraphs]
    assert any(p.startswith("县工信局组织规模以上工业企业开展质量月活动") for p in paragraphs)


def test_duban_demo_never_touches_a_folder_it_did_not_make(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("the coordinator's own file")

    run = duban("demo", "--dir", str(folder))

    assert run.returncode == 2
    assert f"{folder} exists and is not a demo folder" in run.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
