"""The notice corpus and its scorer: real notices gathered from public pages, each beside an
answer file written by hand from the notice itself (never from the importer's output).

Each `tests/notices/NAME.answer.yaml` holds what a coordinator would take from the notice: the
units that must report (`units`), those the notice gives duties of their own (`with_duties`),
the deadline, the notice's own number, its theme and lead office, and where it was found
(`source`). `notice:` names the text when it lives elsewhere (the seeds under fixtures);
otherwise it is `NAME.txt` beside the answer. `held_back: true` marks the notices kept out of
sight while the importer's rules were written: their figures are reported apart.

Unit names are matched leniently, as a coordinator reads them: 青海省教育厅 is 省教育厅,
人行大田县支行 is not 县发改局. Run `python -m tests.notice_corpus` for the table.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from config.notice.extract import extract
from config.notice.model import Draft
from config.notice.text import from_text, read_notice

CORPUS = Path(__file__).resolve().parent / "notices"
TODAY = date(2026, 11, 22)  # dates nothing: a notice without a year gets it, marked


@dataclass(frozen=True)
class Answer:
    name: str
    notice: Path
    units: list[str]
    with_duties: list[str]
    deadline: date | None
    number: str | None
    theme: str | None
    lead: str | None
    held_back: bool


def answers(corpus: Path = CORPUS) -> list[Answer]:
    out = []
    for path in sorted(corpus.glob("*.answer.yaml")):
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".answer.yaml")
        notice = (path.parent / data["notice"]) if data.get("notice") else corpus / f"{name}.txt"
        out.append(
            Answer(
                name=name,
                notice=notice.resolve(),
                units=[str(u) for u in data.get("units") or []],
                with_duties=[str(u) for u in data.get("with_duties") or []],
                deadline=data.get("deadline"),
                number=data.get("number"),
                theme=None if data.get("theme") is None else str(data["theme"]),
                lead=data.get("lead"),
                held_back=bool(data.get("held_back")),
            )
        )
    return out


def _plain(name: str) -> str:
    """A name as compared: simplified, no spaces, brackets or punctuation."""
    text = from_text(name).text
    return re.sub(r"[\s()（）〔〕\[\]“”\"'‘’《》,，、。:：;；·—\-]", "", text)


def same_unit(a: str, b: str) -> bool:
    """Lenient: equal, one inside the other (省教育厅 / 青海省教育厅), or nearly the same."""
    x, y = _plain(a), _plain(b)
    if not x or not y:
        return False
    if x == y or (min(len(x), len(y)) >= 2 and (x in y or y in x)):
        return True
    return SequenceMatcher(None, x, y).ratio() >= 0.8


def matched(found: list[str], expected: list[str]) -> int:
    """How many expected names are found, each found name used once: exact matches first,
    so 宣传部 and 省委宣传部 each take their own."""
    left = list(found)
    hits = 0
    for exact in (True, False):
        for name in list(expected):
            for i, candidate in enumerate(left):
                if (_plain(candidate) == _plain(name)) if exact else same_unit(candidate, name):
                    hits += 1
                    left.pop(i)
                    expected = [e for e in expected if e is not name]
                    break
    return hits


def _number(text: str | None) -> str:
    """A number as compared: no brackets, no 第, no zeros before the serial (第031号 is 31号)."""
    plain = re.sub(r"[\s〔〕\[\]［］【】()（）﹝﹞第]", "", from_text(text or "").text)
    return re.sub(r"((?:19|20)\d\d)0+(?=\d)", r"\1", plain)


def _theme(text: str | None) -> str:
    return re.sub(r"[\s“”\"'‘’,，、:：;；。!！—\-]", "", from_text(text or "").text)


@dataclass
class Score:
    """One notice's figures."""

    name: str
    held_back: bool
    expected: int
    found: int
    right: int
    duties_expected: int
    duties_right: int
    # Per field: (the answer states it, the importer is right). Where the notice states
    # nothing, right means the draft says so rather than giving a value of its own.
    fields: dict[str, tuple[bool, bool]] = field(default_factory=dict)


FIELDS = ("deadline", "number", "theme", "lead")


def score(answer: Answer) -> Score:
    draft = extract(read_notice(answer.notice), TODAY)
    found = [u.name for u in draft.units]
    with_duties = [u.name for u in draft.units if u.duties]
    return Score(
        name=answer.name,
        held_back=answer.held_back,
        expected=len(answer.units),
        found=len(found),
        right=matched(found, answer.units),
        duties_expected=len(answer.with_duties),
        duties_right=matched(with_duties, answer.with_duties),
        fields=_fields(answer, draft),
    )


def _fields(answer: Answer, draft: Draft) -> dict[str, tuple[bool, bool]]:
    # Without a deadline the draft falls back to a date of its own, marked as such.
    guessed = draft.due.source is None
    number, theme, lead = draft.document_number.value, draft.theme.value, draft.lead_office.value
    return {
        "deadline": (
            (True, draft.due.value == answer.deadline and not guessed)
            if answer.deadline
            else (False, guessed)
        ),
        "number": (
            (True, _number(number) == _number(answer.number))
            if answer.number
            else (False, number is None)
        ),
        "theme": (
            (True, _theme(theme) == _theme(answer.theme))
            if answer.theme
            else (False, theme is None)
        ),
        "lead": (
            (True, bool(lead) and same_unit(lead or "", answer.lead))
            if answer.lead
            else (False, True)
        ),
    }


@dataclass(frozen=True)
class Figures:
    notices: int
    recall: float  # units found of those the answers list, over the corpus
    precision: float  # units found that the answers list
    duties: float  # units given duties of their own, of those the answers list
    right: dict[str, tuple[int, int]]  # field → (right, notices stating it)
    invented: dict[str, int]  # field → values given where the notice states none


def figures(scores: list[Score]) -> Figures:
    expected = sum(s.expected for s in scores)
    found = sum(s.found for s in scores)
    right = sum(s.right for s in scores)
    duties_expected = sum(s.duties_expected for s in scores)
    return Figures(
        notices=len(scores),
        recall=right / expected if expected else 1.0,
        precision=right / found if found else 1.0,
        duties=sum(s.duties_right for s in scores) / duties_expected if duties_expected else 1.0,
        right={
            k: (
                sum(1 for s in scores if s.fields[k] == (True, True)),
                sum(1 for s in scores if s.fields[k][0]),
            )
            for k in FIELDS
        },
        invented={k: sum(1 for s in scores if s.fields[k] == (False, False)) for k in FIELDS},
    )


def report(scores: list[Score], rows_held_back: bool = False) -> str:
    """A row a notice, then the figures. The held-back notices are left out unless asked for:
    while rules are written, they are not seen at all."""
    lines = [
        f"{'notice':46} {'units':>9} {'duties':>7}  deadline number theme lead",
    ]
    mark = {
        (True, True): "ok",
        (True, False): "WRONG",
        (False, True): "-",
        (False, False): "MADE UP",
    }
    for s in scores:
        if s.held_back and not rows_held_back:
            continue
        units = f"{s.right}/{s.expected}+{s.found - s.right}"
        duties = f"{s.duties_right}/{s.duties_expected}"
        cells = " ".join(f"{mark[s.fields[k]]:>7}" for k in FIELDS)
        lines.append(f"{s.name[:46]:46} {units:>9} {duties:>7}  {cells}")
    for title, group in (
        ("rules written on", [s for s in scores if not s.held_back]),
        ("held back", [s for s in scores if s.held_back and rows_held_back]),
        ("whole corpus", scores if rows_held_back else []),
    ):
        if group:
            lines.append(_summary(title, figures(group)))
    return "\n".join(lines)


def _summary(title: str, f: Figures) -> str:
    fields = ", ".join(
        f"{k} {r}/{n}" + (f" ({f.invented[k]} invented)" if f.invented[k] else "")
        for k, (r, n) in f.right.items()
    )
    return (
        f"{title} ({f.notices} notices): unit recall {f.recall:.2f}, precision "
        f"{f.precision:.2f}, duties {f.duties:.2f}; {fields}"
    )


if __name__ == "__main__":
    # python -m tests.notice_corpus [--all]: --all shows the held-back notices' rows too.
    print(report([score(a) for a in answers()], rows_held_back="--all" in sys.argv[1:]))
