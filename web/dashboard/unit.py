"""One unit's page (its facts, submissions and messages), its files, and what the
coordinator does to it: accept, return for revision, extend, resend the notice, reassign.
Every action is a row of `ACTIONS`; `tasks.review` does it, this module only answers."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.background import BackgroundTask

from config.campaign.channels import redact
from config.clock import ClockError, parse_instant
from config.clock import now as clock_now
from models import queries as q
from models.db import get_engine
from tasks import review
from web.dashboard.rows import OverdueDays, campaign_or_404
from web.deps import FormNumber, RowId, Session, SignedIn, check_csrf
from web.files import attachment_response, thumbnail_response
from web.pages import templates

router = APIRouter()


@dataclass(frozen=True)
class ActionForm:
    """The fields the unit page's forms post; each action reads the ones it needs."""

    version: int
    comment: str
    due: str
    form_key: str
    notify: str
    person: str
    phone: str


# An action's step: the unit, the form, who acts and when; returns the messages to send.
Step = Callable[[dict[str, Any], ActionForm, str, datetime], list[int]]


@dataclass(frozen=True)
class Action:
    done: str  # the word its redirect carries (`?done=`)
    notice: str  # and what the unit's page then says
    step: Step


def _accept(unit: dict[str, Any], form: ActionForm, by: str, now: datetime) -> list[int]:
    review.accept(unit, form.version, by, now)
    return []  # the department is not told: its page shows it


ACTIONS: dict[str, Action] = {
    "accept": Action("accepted", "已验收该单位的材料。", _accept),
    "return": Action(
        "returned",
        "已退回修改，并已通知该单位。",
        lambda unit, form, by, now: review.return_for_revision(
            unit, form.version, form.comment, by, now
        ),
    ),
    "extend": Action(
        "extended",
        "已延期，并已通知该单位；提醒将按新的截止时间安排。",
        lambda unit, form, by, now: review.extend(unit, new_due(form.due, unit["timezone"]), now),
    ),
    "resend": Action(
        "resent",
        "已重发任务通知。",
        lambda unit, form, by, now: review.resend_notice(unit, form.form_key, now),
    ),
    "reassign": Action(
        "reassigned",
        "已重新指派：原链接已失效，新链接已发给新的联系人。",
        lambda unit, form, by, now: review.reassign(
            unit, form.notify, form.person, form.phone, now
        ),
    ),
}
NOTICES = {action.done: action.notice for action in ACTIONS.values()}


@router.get("/c/{slug}/u/{code}")
def unit_page(
    request: Request,
    slug: str,
    code: str,
    session: SignedIn,
    done: str | None = None,
) -> Response:
    return _unit_page(request, session, _unit(slug, code), notice=NOTICES.get(done or ""))


@router.get("/c/{slug}/files/{attachment_id}")
def coordinator_file(slug: str, attachment_id: RowId, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        found = campaign_or_404(conn, slug)
    return attachment_response(attachment_id, campaign_id=found["id"])


@router.get("/c/{slug}/files/{attachment_id}/thumbnail")
def coordinator_thumbnail(slug: str, attachment_id: RowId, session: SignedIn) -> Response:
    with get_engine().connect() as conn:
        found = campaign_or_404(conn, slug)
    return thumbnail_response(attachment_id, campaign_id=found["id"])


@router.post("/c/{slug}/u/{code}/{action}")
def unit_action(
    request: Request,
    slug: str,
    code: str,
    action: str,
    session: SignedIn,
    csrf: Annotated[str, Form()] = "",
    version: FormNumber = 0,
    comment: Annotated[str, Form()] = "",
    due: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form()] = "",
    notify: Annotated[str, Form()] = "",
    person: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if action not in ACTIONS:
        raise HTTPException(404)
    unit = _unit(slug, code)
    form = ActionForm(version, comment, due, form_key, notify, person, phone)
    now = clock_now()
    try:
        ids = ACTIONS[action].step(unit, form, session.coordinator.username, now)
    except review.ActionRefused as exc:
        return _unit_page(request, session, unit, error=str(exc), status=409)
    return RedirectResponse(
        f"/c/{slug}/u/{code}?done={ACTIONS[action].done}",
        status_code=303,
        # Sent after the answer: the coordinator does not wait on a mail relay.
        background=BackgroundTask(review.send_now, ids, now),
    )


def new_due(text: str, timezone: str) -> date | datetime:
    """The extension's form value: a day (`2021-10-15`, the end of that day, as a campaign
    file's deadline) or an instant."""
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return parse_instant(text, timezone)
    except (ValueError, ClockError) as exc:
        raise review.ActionRefused("请填写新的截止日期（如 2021-10-15）。") from exc


def _unit(slug: str, code: str) -> dict[str, Any]:
    """The unit's row, which carries its campaign's facts too (see `models.queries`)."""
    with get_engine().connect() as conn:
        found = campaign_or_404(conn, slug)
        unit = q.unit_by_code(conn, found["id"], code)
    if unit is None:
        raise HTTPException(404)
    return unit


def _unit_page(
    request: Request,
    session: Session,
    unit: dict[str, Any],
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with get_engine().connect() as conn:
        versions = q.submissions_of(conn, unit["assignment_id"])
        messages = q.messages_of(conn, [unit["assignment_id"]])[unit["assignment_id"]]
    for m in messages:
        m["channel_shown"] = redact(m["channel"])
    tz = unit["timezone"]
    return templates.TemplateResponse(
        request,
        "unit.html",
        {
            "session": session,
            "campaign": {k: unit[k] for k in ("slug", "title", "timezone")},
            "spec": unit["spec"],
            "unit": unit,
            "shown_status": q.display_status(unit["status"], unit["late"]),
            "days": OverdueDays(clock_now(), tz)(unit["status"], unit["due_at"]),
            "versions": versions,
            "messages": messages,
            "channels": [redact(c) for c in unit["notify"]],
            "notice": notice,
            "error": error,
            "form_key": secrets.token_urlsafe(16),
        },
        status_code=status,
    )
