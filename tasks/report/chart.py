"""The progress chart: units submitting per local day, on time and late in two colours, the
deadline marked and labelled. Drawn once by matplotlib; the same drawing is saved as a PNG for
the Word document and as an SVG for the HTML page.

matplotlib (rather than drawing shapes by hand) lays out axes, ticks, labels and the legend,
and renders CJK text with a font found on the machine: Debian's `fonts-noto-cjk` provides
Noto Sans CJK SC, which `tests/run` installs where missing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import cache

import matplotlib
from matplotlib import font_manager

# A Figure of its own, not pyplot's: no display nor global state, safe in a flow's threads.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from config.clock import local, month_day
from tasks.report.facts import Report

ON_TIME_COLOUR = "#2f5f8f"
LATE_COLOUR = "#c0392b"
DEADLINE_COLOUR = "#333333"
# The first of these the machine has draws the chart's Chinese text: Noto (fonts-noto-cjk) on
# Debian, the others as Windows and other Linux machines name theirs.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
)
WIDTH_IN, HEIGHT_IN, DPI = 6.3, 2.8, 200  # 16 cm wide on the page, sharp when printed


class NoCjkFont(RuntimeError):
    """No font on the machine draws Chinese: the chart would show boxes instead of words."""


@dataclass(frozen=True)
class ChartText:
    """What the chart says in words: its axis labels, legend and deadline mark. Written into
    the PNG (as its description) and the SVG (as text), so a reader and a test can check it."""

    labels: list[str]

    @property
    def description(self) -> str:
        return "；".join(self.labels)


@cache
def cjk_font() -> str:
    """The family the chart's text is set in."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FONTS:
        if family in installed:
            return family
    raise NoCjkFont(f"none of {', '.join(CJK_FONTS)} is installed (Debian: fonts-noto-cjk)")


def draw(report: Report) -> tuple[Figure, ChartText] | None:
    """The chart of `report.by_day`; None when nothing has been submitted yet."""
    days = report.by_day
    if not days:
        return None
    font = cjk_font()
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    axes = figure.add_subplot()
    xs = list(range(len(days)))
    on_time = [n for _, n, _ in days]
    late = [n for _, _, n in days]
    axes.bar(xs, on_time, color=ON_TIME_COLOUR, width=0.7, label="按时报送")
    if any(late):
        axes.bar(xs, late, bottom=on_time, color=LATE_COLOUR, width=0.7, label="逾期报送")
    top = max(a + b for a, b in zip(on_time, late, strict=True))
    for x, a, b in zip(xs, on_time, late, strict=True):
        if a + b:
            axes.annotate(
                str(a + b), (x, a + b), xytext=(0, 2), textcoords="offset points",
                ha="center", va="bottom", fontsize=8, family=font,
            )  # fmt: skip
    due_day = date.fromordinal(local(report.due_at, report.timezone).toordinal())
    deadline = f"报送截止（{month_day(due_day)}）"
    for x, (day, _, _) in enumerate(days):
        if day == due_day:  # the line after the deadline's day: what stands right of it is late
            axes.axvline(x + 0.5, color=DEADLINE_COLOUR, linestyle="--", linewidth=1)
            axes.text(
                x + 0.45, top * 1.18, deadline, ha="right", va="top",
                fontsize=8, family=font, color=DEADLINE_COLOUR,
            )  # fmt: skip
    ticks = _date_ticks([d for d, _, _ in days], due_day)
    axes.set_xticks([x for x, _ in ticks], [label for _, label in ticks], fontsize=7, family=font)
    axes.set_xlim(-0.6, len(days) - 0.4)
    axes.set_ylim(0, top * 1.25)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.tick_params(axis="y", labelsize=7)
    axes.set_ylabel("报送单位数（个）", fontsize=8, family=font)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper left", frameon=False, prop={"family": font, "size": 8})
    figure.tight_layout()
    legend = ["按时报送", *(["逾期报送"] if any(late) else [])]
    words = [label for _, label in ticks] + legend + ["报送单位数（个）", deadline]
    return figure, ChartText(words)


def _date_ticks(days: list[date], due_day: date) -> list[tuple[int, str]]:
    """A label under every day while they fit (about 16), else under every few days, the first,
    last and deadline days always (a regular label too close to one of those is left out); the
    month written on the first and where it changes (「9月24日」, 「25日」, …, 「10月1日」)."""
    step = max(1, -(-len(days) // 16))
    kept = {0, len(days) - 1} | {i for i, d in enumerate(days) if d == due_day}
    regular = {i for i in range(0, len(days), step) if all(abs(i - k) >= step for k in kept)}
    ticks, shown_month = [], None
    for i in sorted(kept | regular):
        day = days[i]
        ticks.append((i, month_day(day) if day.month != shown_month else f"{day.day}日"))
        shown_month = day.month
    return ticks


def progress_png(report: Report) -> bytes:
    """The chart as a PNG for the Word document, its words in the PNG's description."""
    drawn = draw(report)
    if drawn is None:
        return b""
    figure, text = drawn
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Description": text.description})
    return out.getvalue()


def progress_svg(report: Report) -> str:
    """The chart as SVG for the HTML page: plain markup, no script, its words kept as text
    (the page names CJK fonts) so they can be found and copied."""
    drawn = draw(report)
    if drawn is None:
        return ""
    figure, _ = drawn
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(out, format="svg", metadata={"Title": "每日报送单位数"})
    svg = out.getvalue()
    return svg[svg.index("<svg") :]  # the page embeds the element, not an XML document
