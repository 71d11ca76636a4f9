"""The answer when the database or the disk cannot serve for now (locked past the wait, full,
unreachable: `models.faults`): a page in Chinese that says to try again later and what was
kept, with 503 and Retry-After, instead of a bare 500 after a long wait.

Every write of a request is one transaction, and a submission's files are removed when its
transaction fails (`tasks.link.submission.submit`), so a POST answered here changed nothing.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from sqlalchemy import exc as sa

from models.faults import transient
from web.pages import templates

RETRY_AFTER_S = 30

READ_TEXT = "系统暂时无法读取数据，请稍后刷新本页。"
WRITE_TEXT = "系统暂时无法保存，请稍后再试。本次提交的内容未被保存，系统中的数据没有任何改动。"

_log = logging.getLogger("duban.web")


def install(app: FastAPI) -> None:
    """One handler for the classes a passing failure comes as; it answers only those that
    `transient` recognises and lets the rest through as the 500 they are."""
    for kind in (sa.OperationalError, sa.TimeoutError, OSError):
        app.add_exception_handler(kind, unavailable)


async def unavailable(request: Request, exc: Exception) -> Response:
    if not transient(exc):
        raise exc  # a defect: Starlette answers 500 and the server logs the traceback
    # The route's pattern, not the path: a link page's path is the department's key.
    route = getattr(request.scope.get("route"), "path", "?")
    _log.warning("503 for %s %s: %s", request.method, route, _first_line(exc))
    reading = request.method in ("GET", "HEAD")
    return templates.TemplateResponse(
        request,
        "busy.html",
        {
            "text": READ_TEXT if reading else WRITE_TEXT,
            # What the department typed, set aside by the link page before it tried to store
            # it: the page it came from may come back empty.
            "kept_text": getattr(request.state, "kept_text", ""),
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}"
