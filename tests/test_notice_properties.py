"""Property tests of the notice reader: garbled, truncated and arbitrary notices give drafts
with marked guesses, never a crash and never a unit or a date the text does not hold."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.campaign.loader import parse_campaign
from config.notice.dates import find_dates
from config.notice.draft import render
from config.notice.extract import extract
from config.notice.text import from_text

pytestmark = pytest.mark.pure

NOTICE = Path(__file__).resolve().parent / "fixtures" / "notices" / "datian-2021-notice.txt"
TODAY = date(2026, 11, 22)
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _draft(raw: str) -> tuple[dict[str, Any], str, str]:
    notice = from_text(raw)
    text = render(extract(notice, TODAY), "notice.txt", notice)
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data, text, notice.text


def _check_draft(raw: str) -> None:
    """What must hold for any notice: the draft is YAML; no unit the text does not name;
    a deadline either written plainly in the text or marked; valid once channels are given."""
    data, text, seen = _draft(raw)
    flat = seen.replace(" ", "").replace("\n", "")
    for unit in data["departments"]:
        assert unit["name"] in flat, unit["name"]
    due: date = data["due"]
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("due:"))
    marked = at > 0 and lines[at - 1].startswith("# CHECK:")
    plain = f"{due.year}年{due.month}月{due.day}日" in seen.replace(" ", "")
    assert marked or plain, "an unmarked deadline the notice does not write"
    filled = text.replace("notify: []", "notify: [unit@county.example.cn]")
    if data["departments"]:
        parse_campaign(filled)


_garble = st.lists(
    st.tuples(
        st.sampled_from(["delete", "delete_run", "space", "bracket", "cut"]),
        st.floats(min_value=0, max_value=1, exclude_max=True),
        st.integers(min_value=1, max_value=40),
    ),
    max_size=12,
)
_WIDTHS = str.maketrans("〔〕()（）:：,，", "[]（）()：:，,")


def _apply(text: str, edits: list[tuple[str, float, int]]) -> str:
    """Copying damage: characters and runs lost, stray spaces, bracket widths swapped, the
    text cut short."""
    for kind, where, size in edits:
        at = int(where * len(text)) if text else 0
        if kind == "delete":
            text = text[:at] + text[at + 1 :]
        elif kind == "delete_run":
            text = text[:at] + text[at + size :]
        elif kind == "space":
            text = text[:at] + " " * (size % 3 + 1) + text[at:]
        elif kind == "bracket":
            text = text[:at] + text[at : at + size * 20].translate(_WIDTHS) + text[at + size * 20 :]
        elif kind == "cut" and size > 30:  # truncated: seldom, or nothing would be left
            text = text[:at]
    return text


@FAST
@given(edits=_garble)
def test_a_garbled_county_notice_gives_marked_guesses_not_crashes(
    edits: list[tuple[str, float, int]],
) -> None:
    _check_draft(_apply(NOTICE.read_text(encoding="utf-8"), edits))


_NOTICE_WORDS = st.sampled_from(
    [
        "县发改局",
        "县市场监管局",
        "市场监管部门",
        "各有关企业",
        "、",
        ",",
        ":",
        "。",
        "\n",
        "一、",
        "二、活动主题",
        "四、县直相关部门主要活动",
        "(一)",
        "()",
        "(十三)",
        "金融部门:",
        "于",
        "2021",
        "年",
        "9",
        "月",
        "30",
        "日",
        "前",
        "报送",
        "总结",
        "关于开展2021年“质量月”活动的通知",
        "〔",
        "〕",
        "号",
        "质量月",
        "人行大田县支行",
        "\u2028",
        "\x85",
        "\x0c",
        "\r",
        "(星期四)",
        "下午下班",
        "1.",
        "至30日",
        "活动时间:",
    ]
)


@FAST
@given(parts=st.lists(_NOTICE_WORDS | st.text(max_size=6), max_size=80))
def test_notice_shaped_nonsense_gives_a_draft(parts: list[str]) -> None:
    _check_draft("".join(parts))


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
    lose=st.sets(st.sampled_from(["年", "月"])),
)
def test_a_date_that_lost_its_year_or_month_sign_is_read_among_its_readings(
    day: date, lose: set[str]
) -> None:
    written = f"于{day.year}年{day.month}月{day.day}日前报送"
    for sign in lose:
        written = written.replace(sign, "", 1)
    found = find_dates(written)
    assert len(found) == 1
    one = found[0]
    assert one.value == day or day in one.readings
    assert (one.doubt is None) == (not lose), "a recovered date is always marked"
    if one.value != day:
        assert one.doubt and re.search(day.isoformat(), one.doubt)
