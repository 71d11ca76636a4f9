"""The department's personal link: `/d/{token}`. A GET only reads; the forms on the page post
to the same URL (签收 and the submission), and a successful submission redirects to its
receipt, so a reload never posts again."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from config.clock import now as clock_now
from tasks.link import policy
from tasks.link.submission import (
    HEADLINE_MAX,
    LinkState,
    SubmissionRefused,
    Unit,
    Upload,
    acknowledge,
    find_unit,
    history,
    submit,
)
from tasks.messages.render import deliverables
from web.deps import RowId
from web.files import attachment_response
from web.pages import templates

router = APIRouter()

# Room for the summary and the multipart framing on top of the attachments' own limit.
FORM_OVERHEAD = 2 * 1024 * 1024

REFUSALS = {
    LinkState.UNKNOWN: (
        404,
        "链接无效",
        "未找到与该链接对应的任务。请检查链接是否完整，或与牵头单位联系。",
    ),
    LinkState.REVOKED: (
        410,
        "链接已失效",
        "该任务已由牵头单位重新指派给其他联系人，此链接不再有效。如有疑问，请与牵头单位联系。",
    ),
}


@router.get("/d/{token}")
def link_page(request: Request, token: str) -> Response:
    unit = find_unit(token)
    if unit.state in REFUSALS:
        return _refusal(request, unit)
    return _page(request, token, unit)


@router.post("/d/{token}")
async def link_post(request: Request, token: str) -> Response:
    unit = await run_in_threadpool(find_unit, token)
    if unit.state in REFUSALS:
        return _refusal(request, unit)
    if unit.state == LinkState.CLOSED:
        return _page(request, token, unit, error="本次活动已结束，不再接收材料。", status=409)
    limits = policy.Limits.from_settings()
    declared = _declared_length(request)
    if declared is None:
        return _page(request, token, unit, error="请通过本页面的表单提交。", status=411)
    if declared > limits.max_total_bytes + FORM_OVERHEAD:
        # Refused before a byte of the body is read: nothing is stored, not even a temp file.
        return _page(request, token, unit, error=_too_big(limits), status=413)
    try:
        form = await request.form(
            max_files=limits.max_files + 1, max_fields=10, max_part_size=1024 * 1024
        )
    except HTTPException:
        # Too many files or fields, or a malformed body: Starlette's own message is English
        # and technical; the department gets the limits instead. Nothing was stored.
        return _page(request, token, unit, error=_unreadable(limits), status=400)
    try:
        action = str(form.get("action") or "submit")
        if action == "acknowledge":
            await run_in_threadpool(acknowledge, unit)
            return RedirectResponse(f"/d/{token}", status_code=303)
        summary = str(form.get("summary") or "")
        headline = str(form.get("headline") or "")
        # Should the database or the disk fail now, the busy page gives the text back
        # (`web.unavailable`): nothing of it will have been stored.
        request.state.kept_text = summary
        uploads = []
        for item in form.getlist("attachments"):
            if isinstance(item, UploadFile) and item.filename:
                head = await item.read(2048)
                uploads.append(Upload(item.filename, head, item.size or 0, item.file))
        try:
            receipt = await run_in_threadpool(
                submit,
                unit,
                str(form.get("form_key") or ""),
                summary,
                uploads,
                limits,
                None,
                headline,
            )
        except SubmissionRefused as exc:
            return _page(
                request, token, unit, error=str(exc), status=400, summary=summary, headline=headline
            )
    finally:
        await form.close()  # the spooled temporary files go now, whatever happened
    return RedirectResponse(f"/d/{token}/receipt/{receipt.version}", status_code=303)


@router.get("/d/{token}/receipt/{version}")
def receipt_page(request: Request, token: str, version: RowId) -> Response:
    unit = find_unit(token)
    if unit.state in REFUSALS:
        return _refusal(request, unit)
    found = next((v for v in history(unit.assignment_id) if v["version"] == version), None)
    if found is None:
        raise HTTPException(404)
    return templates.TemplateResponse(
        request, "receipt.html", {"token": token, "unit": unit.row, "submission": found}
    )


@router.get("/d/{token}/files/{attachment_id}")
def department_file(token: str, attachment_id: RowId) -> Response:
    unit = find_unit(token)
    if unit.state in REFUSALS:
        raise HTTPException(404)
    return attachment_response(attachment_id, assignment_id=unit.assignment_id)


def _declared_length(request: Request) -> int | None:
    """The body's declared size; None without one. ASCII digits only (`str.isdigit` takes
    `²`, which `int` refuses), and any length past 18 digits is more than every limit."""
    declared = request.headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()):
        return None
    return int(declared) if len(declared) <= 18 else 10**18


def _page(
    request: Request,
    token: str,
    unit: Unit,
    *,
    error: str | None = None,
    status: int = 200,
    summary: str | None = None,
    headline: str | None = None,
) -> Response:
    row = unit.row
    versions = history(unit.assignment_id)
    latest = versions[0] if versions else None
    now = clock_now()
    context: dict[str, Any] = {
        "token": token,
        "unit": row,
        "spec": row["spec"],
        "closed": unit.state == LinkState.CLOSED,
        "versions": versions,
        "latest": latest,
        "now": now,
        "overdue": now > row["due_at"],
        "deliverables": deliverables(row["spec"].requirements),
        "limits": policy.Limits.from_settings(),
        "accept": ",".join("." + ext for ext in sorted(policy.ALLOWED)),
        # A new key per page view: posting this form twice is one submission.
        "form_key": secrets.token_urlsafe(24),
        "error": error,
        "summary": summary if summary is not None else (latest["summary"] if latest else ""),
        "headline": headline if headline is not None else ((latest or {}).get("headline") or ""),
        "headline_max": HEADLINE_MAX,
    }
    return templates.TemplateResponse(request, "link.html", context, status_code=status)


def _refusal(request: Request, unit: Unit) -> Response:
    status, title, text = REFUSALS[unit.state]
    return templates.TemplateResponse(
        request, "message.html", {"title": title, "text": text}, status_code=status
    )


def _unreadable(limits: policy.Limits) -> str:
    return f"提交的内容无法处理，未保存。请检查附件后重新提交。{limits.describe()}"


def _too_big(limits: policy.Limits) -> str:
    return f"提交内容过大，未保存。{limits.describe()}"
