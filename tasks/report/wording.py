"""The report's sentences, written once for the Word document, the HTML page and the mail:
the title, the opening, the paragraph the figures make, a unit's heading, the date line."""

from __future__ import annotations

from config.clock import local, month_day, written
from tasks.report.facts import Report, ReportUnit

_DIGITS = "零一二三四五六七八九"


def numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五: a heading's 「（十二）」.
    From 1000 on, Arabic figures: a roundup that long is read by its index, not aloud."""
    if n >= 1000:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if not rest else ("零" + _DIGITS[rest] if rest < 10 else numeral(rest))
    if 10 <= rest < 20:
        tail = "一" + tail  # 一百一十二, not 一百十二
    return numeral(n // 100) + "百" + tail


def title(report: Report) -> str:
    """「…活动总结报告」, or 「…活动进展情况」 while the campaign runs."""
    return f"{report.title}{report.kind}"


def dated(report: Report) -> str:
    """The 成文日期: 「2021年10月11日」."""
    return written(local(report.generated_at, report.timezone))


def as_of(report: Report) -> str:
    """The line under a progress report's title."""
    return f"（截至{dated(report)}，活动尚在进行，数据以总结报告为准）"


def opening(report: Report) -> str:
    spec = report.spec
    who = f"{report.office}组织开展" if report.office else "开展"
    theme = f"，活动主题为“{spec.theme}”" if spec.theme else ""
    due = written(local(report.due_at, report.timezone))
    said = "现将活动开展情况报告如下：" if report.final else "现将截至目前的进展情况报告如下："
    return (
        f"{who}{report.title}{theme}。共{report.figures.units}个单位参加，"
        f"要求于{due}前报送活动总结。{said}"
    )


def overview(report: Report) -> str:
    """The figures as the paragraph an office would write them in."""
    f = report.figures
    missing = "、".join(u.name for u in report.missing[:5])
    more = f"等{f.missing}个单位" if f.missing > 5 else ""
    sentences = [
        f"截至{dated(report)}，{f.units}个参加单位中，按时报送{f.on_time}个，"
        f"逾期报送{f.late}个，未报送{f.missing}个" + (f"（{missing}{more}）" if missing else "")
    ]
    if f.returned_and_revised:
        sentences.append(f"经审核退回修改后重新报送{f.returned_and_revised}个")
    said = f"共向各单位发出提醒、催办{f.reminders_sent}次，督办{f.escalations_sent}次"
    if f.copies_to_office:
        said += f"，逾期未报情况抄送本办{f.copies_to_office}次"
    if f.reports_to_leaders:
        said += f"，向领导小组报告{f.reports_to_leaders}次"
    sentences.append(said)
    return "；".join(sentences) + "。"


def figure_rows(report: Report) -> list[tuple[str, int]]:
    """The figures as the report's table, the page's and the dashboard's label them."""
    f = report.figures
    return [
        ("参加单位（个）", f.units),
        ("按时报送（个）", f.on_time),
        ("逾期报送（个）", f.late),
        ("未报送（个）", f.missing),
        ("退回修改后重报（个）", f.returned_and_revised),
        ("向单位发出提醒、催办（次）", f.reminders_sent),
        ("向单位发出督办（次）", f.escalations_sent),
        ("逾期未报抄送本办（次）", f.copies_to_office),
        ("向领导小组报告（次）", f.reports_to_leaders),
    ]


def unit_heading(number: int, unit: ReportUnit) -> str:
    """「（一）县市场监管局：牵头组织“质量月”活动」, a late unit marked with its days late."""
    text = f"（{numeral(number)}）{unit.name}"
    if unit.headline:
        text += f"：{unit.headline}"
    if unit.days_late:
        text += f"（逾期{unit.days_late}天报送）"
    return text


def messages_text(unit: ReportUnit, timezone: str) -> str:
    """「提醒（9月27日）；督办（10月8日）」: what a missing unit was sent."""
    return "；".join(f"{label}（{month_day(local(at, timezone))}）" for label, at in unit.messages)


def closing_sections(report: Report) -> list[tuple[str, list[str]]]:
    """The sections after the units' own, numbered on from 「三、」, each left out when the
    coordinator wrote nothing for it: (heading, paragraphs)."""
    sections: list[tuple[str, list[str]]] = []
    if report.commended:
        n = len(report.commended)
        names = "、".join(report.commended) + (f"等{n}个单位" if n > 1 else "")
        sections.append(("表扬单位", [f"{names}工作扎实、成效明显，予以表扬。"]))
    for heading, text in (("存在的问题", report.problems), ("下一步工作", report.next_steps)):
        paragraphs = [line.strip() for line in text.splitlines() if line.strip()]
        if paragraphs:
            sections.append((heading, paragraphs))
    return [(f"{numeral(n)}、{heading}", lines) for n, (heading, lines) in enumerate(sections, 3)]
