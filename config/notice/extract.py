"""What a notice says, read into a draft campaign: every value with where it came from, and a
doubt when it was recovered, guessed or not found at all.

Nothing is made up silently. A department appears only if the notice names it; a date only if
the notice writes it. When the notice writes a date badly (「2021930日前」) or not at all, the
draft carries the reading or the fallback together with the doubt, and the draft's renderer
(`config.notice.draft`) marks it for the coordinator.
"""

from __future__ import annotations

import re
from datetime import date

from config.notice import units
from config.notice.body import (
    common_duties,
    due_date,
    guidance,
    period,
    requirements_of,
    theme,
    unit_duties,
)
from config.notice.dates import find_dates
from config.notice.heading import (
    campaign_title,
    cited_numbers,
    document_number,
    lead_office,
    notice_year,
    read_salutation,
    signed_by,
    title_and_issuers,
)
from config.notice.model import Draft, DraftUnit, Found
from config.notice.patterns import TITLES
from config.notice.sections import outline
from config.notice.slug import make_slug
from config.notice.text import NoticeText


def extract(notice: NoticeText, today: date) -> Draft:
    """Read `notice`. `today` dates nothing in the draft: its year is used, and marked, when
    the notice gives none."""
    text = own_text(notice.text)
    shape = outline(text)
    notice_title, issuers = title_and_issuers(shape)
    year = notice_year(notice_title or "", text)
    places = [p for p in (units.place_of(issuers[0] if issuers else ""),) if p]
    dates = find_dates(text, year)
    signed = signed_by(text)
    lead = lead_office(issuers[0] if issuers else None, signed, text)
    if lead.value and (place := units.place_of(lead.value)) and place not in places:
        places.append(place)
    salutation = read_salutation(shape)
    asked, due = due_date(text, dates, year, today)
    requirements = requirements_of(asked, due)
    if lead.value is None and asked and (m := re.search(r"报送(.{2,30}?)[。，,]?$", asked[0])):
        lead = Found(m[1], "not named as the issuer: taken from where summaries are sent")
    title = campaign_title(notice_title, lead.value, shape)
    taken: set[str] = set()
    draft_units = [DraftUnit(n, units.code_for(n, places, taken)) for n in salutation.names]
    for name in dict.fromkeys([*issuers[1:], *signed]):
        if lead.value and units.key(name, places) == units.key(lead.value, places):
            continue
        if all(units.key(name, places) != units.key(u.name, places) for u in draft_units):
            doubt = "signed the notice with the lead office: check that it reports too"
            code = units.code_for(name, places, taken)
            draft_units.append(DraftUnit(name, code, doubt=doubt))
    duty_parts = unit_duties(shape, draft_units, places, taken)
    common, common_source = common_duties(shape)
    return Draft(
        notice_title=notice_title,
        title=title,
        slug=make_slug(title.value or notice_title or "campaign", year),
        lead_office=lead,
        document_number=document_number(shape.opening[: salutation.line]),
        cited_numbers=cited_numbers(text),
        theme=theme(shape, text),
        guidance=guidance(shape),
        period=period(text, year, title.value or ""),
        due=due,
        common_duties=common,
        common_source=common_source,
        requirements=requirements,
        units=draft_units,
        groups=salutation.groups,
        duty_parts=duty_parts,
    )


def own_text(text: str) -> str:
    """The notice without a document pasted below it: a forwarding notice (转发) often
    carries the higher level's notice after its own signature and date, with that notice's
    heading, number, deadline and signature. It starts at a second title line, or rather
    just after the own notice's date above it."""
    lines = text.split("\n")
    titles = [
        i
        for i, line in enumerate(lines)
        if len(line) <= 80 and TITLES[0].search(line.replace(" ", ""))
    ]
    if len(titles) < 2 or titles[1] <= titles[0] + 2:
        return text
    cut = titles[1]
    for i in range(titles[1] - 1, titles[0], -1):
        dated = find_dates(lines[i])
        if dated and len(lines[i].replace(" ", "")) <= len(dated[0].text) + 2:
            cut = i + 1  # the own notice's closing date
            break
    return "\n".join(lines[:cut])
