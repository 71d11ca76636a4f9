"""The progress chart: units submitting per local day as bars, the deadline's day marked by a
dashed line. It is laid out once, as shapes (`layout`), and those shapes are written as SVG for
the HTML page and drawn by Pillow as a PNG for the Word document: both show the same chart."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Literal
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from config.clock import local
from tasks.report.facts import Report

BAR_COLOUR = "#b4232a"
DEADLINE_COLOUR = "#333"
AXIS_COLOUR = "#606060"
FONT_SIZE = 11
DASH = 4  # the deadline line's dashes and gaps, as SVG's stroke-dasharray="4"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # the day and its count, shown on hover in the page


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Label:
    x: float
    y: float  # the text's baseline
    text: str
    anchor: Literal["start", "middle"] = "start"


Shape = Bar | Line | Label


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    shapes: list[Shape]  # in drawing order: what comes later is drawn on top


def layout(report: Report, width: int = 860, height: int = 240) -> Chart | None:
    """The chart of `report.by_day`; None when nothing has been submitted yet."""
    days = report.by_day
    if not days:
        return None
    top = max(n for _, n in days) or 1
    step = (width - 40) / len(days)
    base = height - 30  # the axis: bars stand on it, date labels sit under it
    due_day = date.fromordinal(local(report.due_at, report.timezone).toordinal())
    shapes: list[Shape] = [Line(30, base, width - 10, base, AXIS_COLOUR)]
    on_top: list[Shape] = []  # the deadline line over the bars, and the date labels
    for i, (day, n) in enumerate(days):
        x = 30 + i * step
        h = (height - 50) * n / top
        shapes.append(Bar(x, base - h, max(step - 2, 1), h, f"{day.isoformat()}：{n}"))
        if n:
            shapes.append(Label(x + step / 2, base - 4 - h, str(n), "middle"))
        if day == due_day:
            on_top.append(Line(x + step, 10, x + step, base, DEADLINE_COLOUR, dashed=True))
        if i == 0 or i == len(days) - 1 or day == due_day:
            on_top.append(Label(x, height - 12, f"{day.month}/{day.day}"))
    return Chart(width, height, shapes + on_top)


def progress_svg(report: Report) -> str:
    """The chart as plain SVG, no script, so the page needs nothing from the network."""
    chart = layout(report)
    return to_svg(chart) if chart else ""


def progress_png(report: Report) -> bytes:
    """The chart as a PNG for the Word document."""
    chart = layout(report)
    return to_png(chart) if chart else b""


def to_svg(chart: Chart) -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{chart.width}" height="{chart.height}" '
        f'role="img" aria-label="每日报送单位数">'
    ]
    for s in chart.shapes:
        if isinstance(s, Bar):
            parts.append(
                f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{s.width:.1f}" height="{s.height:.1f}" '
                f'fill="{BAR_COLOUR}"><title>{escape(s.title)}</title></rect>'
            )
        elif isinstance(s, Line):
            dash = f' stroke-dasharray="{DASH}"' if s.dashed else ""
            parts.append(
                f'<line x1="{s.x1:.1f}" x2="{s.x2:.1f}" y1="{s.y1:.1f}" y2="{s.y2:.1f}" '
                f'stroke="{s.colour}"{dash}/>'
            )
        else:
            anchor = ' text-anchor="middle"' if s.anchor == "middle" else ""
            parts.append(
                f'<text x="{s.x:.1f}" y="{s.y:.1f}" font-size="{FONT_SIZE}"{anchor}>'
                f"{escape(s.text)}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def to_png(chart: Chart) -> bytes:
    image = Image.new("RGB", (chart.width, chart.height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(FONT_SIZE)
    for s in chart.shapes:
        if isinstance(s, Bar):
            if s.height > 0:  # an empty day has no bar (Pillow would draw a 1-pixel line)
                right, bottom = s.x + s.width - 1, s.y + s.height
                draw.rectangle((s.x, s.y, right, bottom), fill=BAR_COLOUR)
        elif isinstance(s, Line):
            for y1, y2 in _dashes(s.y1, s.y2) if s.dashed else [(s.y1, s.y2)]:
                draw.line([(s.x1, y1), (s.x2, y2)], fill=s.colour)
        else:
            anchor = "ms" if s.anchor == "middle" else "ls"  # on the baseline, as in SVG
            draw.text((s.x, s.y), s.text, fill="black", font=font, anchor=anchor)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _dashes(y1: float, y2: float) -> list[tuple[float, float]]:
    """A vertical dashed line's pieces (from, to): DASH drawn, DASH left out, as in SVG."""
    pieces, y = [], y1
    while y < y2:
        pieces.append((y, min(y + DASH, y2)))
        y += 2 * DASH
    return pieces
