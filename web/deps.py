"""What routes depend on, declared once: the signed-in coordinator (`SignedIn`, or
`SignedInInline` for a route that runs on the event loop), the CSRF check of a POST, and the
numbers a request carries (`RowId`, `FormNumber`, `PageNumber`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from tasks.accounts import Coordinator
from tasks.sessions import Current, csrf_ok, csrf_token, current, touch

COOKIE = "duban_session"

# The largest number a row's id or version can be (PostgreSQL's BIGINT, SQLite's INTEGER).
# A number in a request is checked against it before it reaches a query: a larger one is no
# row (a 404), not an overflow error from the database. Pydantic parses the text: ASCII
# digits only (not `²` or `１２`, which `str.isdigit` accepts), and a number of thousands of
# digits is refused before Python's own limit on converting it.
MAX_ROW_NUMBER = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_NUMBER)]
FormNumber = Annotated[int, Form(ge=0, le=MAX_ROW_NUMBER)]
PageNumber = Annotated[int, Query(le=MAX_ROW_NUMBER)]


@dataclass(frozen=True)
class Session:
    coordinator: Coordinator
    csrf: str


class LoginRequired(Exception):
    """Raised by `signed_in`; the app turns it into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def signed_in(request: Request) -> Session:
    found = _live(request)
    if found.stale:
        touch(found.session_id)
    return _session(request, found)


async def signed_in_inline(request: Request) -> Session:
    """`signed_in`, run on the event loop rather than in the thread pool: for a route that
    runs there too (see `web.dashboard.campaign`), one hop to a thread fewer. The session's
    read is one primary-key lookup; its write, once a minute, goes to a thread (a write may
    wait on another writer's lock, which the event loop must not)."""
    found = _live(request)
    if found.stale:
        await run_in_threadpool(touch, found.session_id)
    return _session(request, found)


def _live(request: Request) -> Current:
    """The request's live session; else a redirect to sign in (a GET) or a 403 (anything
    else: a form posted from an ended session changes nothing)."""
    found = current(request.cookies.get(COOKIE))
    if found is None:
        if request.method != "GET":
            raise HTTPException(403, "请先登录。")
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return found


def _session(request: Request, found: Current) -> Session:
    return Session(found.coordinator, csrf_token(request.cookies.get(COOKIE) or ""))


SignedIn = Annotated[Session, Depends(signed_in)]
SignedInInline = Annotated[Session, Depends(signed_in_inline)]


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(request.cookies.get(COOKIE), token):
        raise HTTPException(403, "页面已过期，请刷新后重试。")
