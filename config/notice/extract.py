"""What a notice says, read into a draft campaign: every value with where it came from, and a
doubt when it was recovered, guessed or not found at all.

Nothing is made up silently. A department appears only if the notice names it; a date only if
the notice writes it. When the notice writes a date badly (「2021930日前」) or not at all, the
draft carries the reading or the fallback together with the doubt, and the draft's renderer
(`config.notice.draft`) marks it for the coordinator.
"""

from __future__ import annotations

from datetime import date

from config.notice import units
from config.notice.addressees import read_salutation
from config.notice.assignments import assignments
from config.notice.body import (
    common_duties,
    due_date,
    give,
    guidance,
    period,
    requirements_of,
    unit_duties,
)
from config.notice.dates import find_dates
from config.notice.heading import (
    campaign_title,
    lead_office,
    notice_year,
    signed_by,
    title_and_issuers,
)
from config.notice.model import Draft, DraftUnit
from config.notice.noise import strip_noise
from config.notice.number import cited_numbers, document_number
from config.notice.patterns import TITLES
from config.notice.sections import outline, reflow
from config.notice.slug import make_slug
from config.notice.text import NoticeText, tidy
from config.notice.theme import theme


def extract(notice: NoticeText, today: date) -> Draft:
    """Read `notice`. `today` dates nothing in the draft: its year is used, and marked, when
    the notice gives none."""
    cleaned = strip_noise(notice.text)
    text = own_text(reflow(cleaned.text))
    shape = outline(text)
    notice_title, issuers = title_and_issuers(shape)
    year = notice_year(notice_title or "", text)
    places = [p for p in (units.place_of(issuers[0] if issuers else ""),) if p]
    dates = find_dates(text, year)
    signed = signed_by(text)
    asked, due = due_date(text, dates, year, today)
    lead = lead_office(
        issuers[0] if issuers else None,
        signed,
        text,
        asked[0] if asked else None,
        cleaned.fields.get("issuer") or cleaned.fields.get("source"),
    )
    if lead.value and (place := units.place_of(lead.value)) and place not in places:
        places.append(place)
    salutation = read_salutation(shape.opening)
    requirements = requirements_of(asked, due)
    title = campaign_title(notice_title, lead.value, shape)
    taken: set[str] = set()
    draft_units = [
        DraftUnit(n, units.code_for(n, places, taken), named_in="the salutation")
        for n in salutation.names
    ]
    for name in dict.fromkeys([*issuers[1:], *signed]):
        if units.same_body(name, lead.value, places):
            continue
        if all(units.key(name, places) != units.key(u.name, places) for u in draft_units):
            doubt = "signed the notice with the lead office: check that it reports too"
            code = units.code_for(name, places, taken)
            named_in = "the title" if name in issuers else "the signature"
            draft_units.append(DraftUnit(name, code, doubt=doubt, named_in=named_in))
    duty_parts = unit_duties(shape, draft_units, places, taken)
    for task in assignments(text.split("\n")):
        for name in task.names:
            if units.same_body(name, lead.value, places):
                continue
            duties = [tidy(task.duty)] if task.duty else []
            give(name, duties, task.where, draft_units, places, taken, task.where)
    # The lead's own office named in a duty item (「学校文明办将…」) is the lead, not a unit.
    draft_units = [
        u
        for u in draft_units
        if u.named_in == "the salutation" or not units.same_body(u.name, lead.value, places)
    ]
    common, common_source = common_duties(shape)
    return Draft(
        notice_title=notice_title,
        title=title,
        slug=make_slug(title.value or notice_title or "campaign", year),
        lead_office=lead,
        document_number=document_number(
            shape.opening[: salutation.line], notice_title, text, cleaned.fields.get("number")
        ),
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
        noise=cleaned.dropped,
        salutation=salutation.text,
    )


def own_text(text: str) -> str:
    """The notice without a document pasted below it: a forwarding notice (转发) often
    carries the higher level's notice after its own signature and date, with that notice's
    heading, number, deadline and signature. It starts at a second title line, or rather
    just after the own notice's date above it. A title printed twice (the page's heading,
    then the document's) is one notice."""
    lines = text.split("\n")
    titles = [
        i
        for i, line in enumerate(lines)
        if len(line) <= 80 and TITLES[0].search(line.replace(" ", ""))
    ]
    titles = [i for i in titles if i == titles[0] or lines[i] != lines[titles[0]]]
    if len(titles) < 2 or titles[1] <= titles[0] + 2:
        return text
    cut = titles[1]
    for i in range(titles[1] - 1, titles[0], -1):
        dated = find_dates(lines[i])
        if dated and len(lines[i].replace(" ", "")) <= len(dated[0].text) + 2:
            cut = i + 1  # the own notice's closing date
            break
    return "\n".join(lines[:cut])
