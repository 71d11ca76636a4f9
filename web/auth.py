"""Signing coordinators in and out. Dashboard routes depend on `web.deps.SignedIn`.

A sign-in is throttled before its password is checked, and the checks are bounded: see
`tasks.throttle`, which says why."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from tasks import sessions, throttle
from web.deps import COOKIE, check_csrf
from web.pages import templates

router = APIRouter()

KNOWN_BROWSER = "duban_known"  # see `tasks.throttle`: spares this browser the account's lock


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return _login_form(request, next, "")


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    name = username.strip()
    attempt = throttle.Attempt(
        name,
        request.client.host if request.client else "",
        sessions.is_known_browser(request.cookies.get(KNOWN_BROWSER), name),
    )
    wait = await run_in_threadpool(throttle.wait_seconds, attempt)
    if wait:
        return _throttled(request, next, username, wait)
    checking = asyncio.wrap_future(
        throttle.PASSWORD_CHECKS.submit(throttle.check, attempt, password)
    )
    try:
        outcome = await asyncio.wait_for(checking, throttle.CHECK_WAIT_SECONDS)
    except TimeoutError:
        # Still in line: the queue is cancelled for it, and it is told to come back.
        response = _login_form(request, next, username, "登录请求较多，请稍后再试。", 503)
        response.headers["Retry-After"] = str(math.ceil(throttle.CHECK_WAIT_SECONDS))
        return response
    if not outcome.checked:  # locked while it waited in line
        return _throttled(request, next, username, outcome.wait)
    if outcome.who is None:
        return _login_form(request, next, username, "用户名或密码不正确。", 401)
    secure = get_settings().public_url.startswith("https://")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        await run_in_threadpool(sessions.open_session, outcome.who),
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=sessions.SESSION_SECONDS,
    )
    response.set_cookie(
        KNOWN_BROWSER,
        sessions.known_browser_cookie(outcome.who.username),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/login",
        max_age=sessions.KNOWN_BROWSER_DAYS * 86400,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    sessions.end_session(request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _throttled(request: Request, next: str, username: str, wait: int) -> Response:
    minutes = max(math.ceil(wait / 60), 1)
    text = f"登录尝试过于频繁，请{minutes}分钟后再试。"
    response = _login_form(request, next, username, text, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _login_form(
    request: Request, next: str, username: str, error: str | None = None, status: int = 200
) -> Response:
    context = {"next": _safe_next(next), "error": error, "username": username}
    return templates.TemplateResponse(request, "login.html", context, status_code=status)


def _safe_next(target: str) -> str:
    """Only a path on this site: a login link must not send the coordinator elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
