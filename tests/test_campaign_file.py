"""Bad campaign files: each error names the file, the line and the field, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.campaign.loader import CampaignFileError, load_campaign_file, parse_campaign
from config.clock import parse_instant
from flows.launch import launch_flow
from tests.campaigns import DATIAN, EXAMPLES, LAUNCH_DAY, snapshot

GOOD = """\
slug: county-2021
title: 测试活动
due: 2021-09-30
departments:
  - code: a
    name: 甲局
    notify: [a@county.test]
  - code: b
    name: 乙局
    notify: ["json://127.0.0.1:9/hook"]
"""

# (case, text, line, field, words in the message)
# fmt: off
BAD = [
    ("malformed YAML", GOOD.replace("[a@county.test]", "[a@county.test"), 8, "", "YAML 格式有误"),
    ("unknown key", GOOD.replace("due: 2021-09-30", "due: 2021-09-30\ndeadline: 2021-09-30"),
     4, "deadline", "不认识的键「deadline」"),
    ("unknown key in a department", GOOD.replace("    name: 甲局", "    name: 甲局\n    emial: x"),
     7, "departments[0]（甲局）.emial", "不认识的键「emial」"),
    ("missing required key", GOOD.replace("title: 测试活动\n", ""), 1, "title", "缺少必填项"),
    ("missing department name", GOOD.replace("    name: 乙局\n", ""),
     8, "departments[1].name", "缺少必填项"),
    ("duplicate department code", GOOD.replace("code: b", "code: a"),
     8, "departments[1]（乙局）.code", "单位代码「a」重复（第5行已用过）"),
    ("date that does not exist", GOOD.replace("2021-09-30", "2021-02-30"),
     3, "due", "「2021-02-30」不是有效的日期"),
    ("full-width colon after a key", GOOD.replace("due: ", "due："),
     3, "", "「due」后面是全角冒号「：」"),
    ("no space after a list dash", GOOD.replace("  - code: b", "  -code: b"),
     8, "", "「-」后面少了一个空格"),
    ("no space after a colon", GOOD.replace("due: ", "due:"), 3, "", "「due:」后面少了一个空格"),
    ("indented with a tab", GOOD.replace("    name: 甲局", "\tname: 甲局"), 6, "", "制表符"),
    ("time that does not exist", GOOD.replace("2021-09-30", "2021-09-30T25:00"),
     3, "due", "not a date (2021-09-30) or a date and time"),
    ("malformed Apprise URL", GOOD.replace("json://127.0.0.1:9/hook", "jsn://127.0.0.1/hook"),
     10, "departments[1]（乙局）.notify[0]", "not a valid Apprise URL"),
    ("Apprise URL with no target", GOOD.replace("json://127.0.0.1:9/hook", "mailto://"),
     10, "departments[1]（乙局）.notify[0]", "not a valid Apprise URL"),
    ("department with no channel", GOOD.replace("notify: [a@county.test]", "notify: []"),
     7, "departments[0]（甲局）.notify", "没有接收渠道"),
    ("department without notify", GOOD.replace("    notify: [a@county.test]\n", ""),
     5, "departments[0]（甲局）.notify", "缺少必填项"),
    ("tag that no channel defines", GOOD.replace("[a@county.test]", "[leaders]"),
     7, "departments[0]（甲局）.notify[0]", "「leaders」"),
    ("duplicate key", GOOD.replace("title: 测试活动", "title: 测试活动\ntitle: 另一个"),
     3, "title", "appears twice"),
    ("unknown timezone", GOOD + "timezone: Asia/Beijing\n", 11, "timezone", "unknown timezone"),
    ("bad slug", GOOD.replace("county-2021", "County 2021"), 1, "slug", "「County 2021」"),
    ("key that is not a word", GOOD + "[a, b]: 1\n", 11, "", "a key must be a plain word"),
]
# fmt: on


@pytest.mark.prefect
@pytest.mark.parametrize(("case", "text", "line", "field", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_file_names_line_and_field_and_writes_nothing(
    tmp_path: Path, case: str, text: str, line: int, field: str, words: str
) -> None:
    path = tmp_path / "county.yaml"
    path.write_text(text, encoding="utf-8")
    before = snapshot()

    with pytest.raises(CampaignFileError) as caught:
        launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))

    message = str(caught.value)
    first = message.splitlines()[0]
    prefix = f"{path}:{line}: {field}: " if field else f"{path}:{line}: "
    assert first.startswith(prefix), message
    assert words in first, message
    assert snapshot() == before


@pytest.mark.prefect
def test_due_before_launch_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "county.yaml"
    path.write_text(GOOD, encoding="utf-8")
    before = snapshot()
    with pytest.raises(CampaignFileError) as caught:
        launch_flow(path=str(path), now=parse_instant("2021-10-08T09:00+08:00"))
    assert str(caught.value).startswith(f"{path}:3: due: the deadline 2021-09-30 is before")
    assert snapshot() == before


@pytest.mark.pure
def test_every_problem_is_listed_not_just_the_first(tmp_path: Path) -> None:
    text = GOOD.replace("2021-09-30", "2021-13-01").replace("notify: [a@county.test]", "notify: []")
    with pytest.raises(CampaignFileError) as caught:
        load_campaign_file(_write(tmp_path, text))
    assert [p.field for p in caught.value.problems] == ["due", "departments[0]（甲局）.notify"]


@pytest.mark.pure
def test_missing_file_and_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(CampaignFileError, match="找不到这个文件"):
        load_campaign_file(tmp_path / "nope.yaml")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(CampaignFileError, match="不是 UTF-8"):
        load_campaign_file(gbk)


@pytest.mark.pure
def test_the_shipped_examples_are_valid() -> None:
    datian = load_campaign_file(DATIAN).campaign
    assert len(datian.departments) == 18
    assert sum(1 for d in datian.departments if d.duties) == 13
    assert datian.theme == "深入实施质量提升行动 大力推进质量强县建设"
    assert str(datian.due) == "2021-09-30"
    national = load_campaign_file(EXAMPLES / "national-plan.yaml").campaign
    assert national.theme == "提升供给质量 建设质量强国"
    (tagged,) = [d for d in national.departments if d.notify == ["provincial-offices"]]
    assert national.resolve(tagged.notify) == national.channels["provincial-offices"]
    assert len(national.channels["provincial-offices"]) == 2


@pytest.mark.pure
def test_the_command_validates_once_and_the_flow_takes_its_result(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD, encoding="utf-8")
    checked = load_campaign_file(path, keep=True)  # what `duban launch` does before Prefect
    assert load_campaign_file(str(path)) is checked  # the flow's read: the same bytes
    assert load_campaign_file(path) is not checked  # kept for one read only
    load_campaign_file(path, keep=True)
    path.write_text(GOOD.replace("code: b", "code: a"), encoding="utf-8")
    with pytest.raises(CampaignFileError, match="单位代码「a」重复"):
        load_campaign_file(path)  # edited since: validated afresh


@pytest.mark.pure
def test_the_stored_settings_read_back_as_the_same_model() -> None:
    from config.campaign.schema import CampaignSettings

    text = GOOD.replace("due: 2021-09-30", "due: 2021-09-30\nreport: {at: 2021-10-08}")
    settings = parse_campaign(text).campaign.settings()
    assert not hasattr(settings, "departments")
    stored = settings.model_dump(mode="json")
    assert stored["report"] == {"at": "2021-10-08", "days": 3}  # defaults written out
    assert CampaignSettings.stored(stored) == settings


@pytest.mark.pure
def test_values_are_read_as_written() -> None:
    text = GOOD.replace("code: a", "code: 010").replace("code: b", "code: yes")
    text = text.replace("due: 2021-09-30", "due: 2021-09-30T00:00")
    campaign = parse_campaign(text).campaign
    assert [d.code for d in campaign.departments] == ["010", "yes"]  # not 8 and True
    assert str(campaign.due) == "2021-09-30 00:00:00"  # midnight stays midnight


@pytest.mark.prefect
def test_a_bad_edit_of_a_launched_campaign_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    launch_flow(path=str(path), now=parse_instant(LAUNCH_DAY))
    before = snapshot()
    assert before["assignment"]
    for broken in (
        GOOD.replace("2021-09-30", "2021-09-01"),  # now before the launch
        GOOD.replace("code: b", "code: a"),
        GOOD.replace("[a@county.test]", "[a@county.test, nope://x]"),
    ):
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(CampaignFileError):
            launch_flow(path=str(path), now=parse_instant("2021-09-14T09:00+08:00"))
        assert snapshot() == before


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path
