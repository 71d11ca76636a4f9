"""Signing coordinators in and out. Dashboard routes depend on `web.deps.SignedIn`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from tasks.accounts import session_cookie, sign_in
from web.deps import COOKIE, check_csrf
from web.pages import templates

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None, "username": ""}
    )


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    who = await run_in_threadpool(sign_in, username.strip(), password)
    if who is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "用户名或密码不正确。", "username": username},
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        await run_in_threadpool(session_cookie, who),
        httponly=True,
        samesite="lax",
        secure=get_settings().public_url.startswith("https://"),
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _safe_next(target: str) -> str:
    """Only a path on this site: a login link must not send the coordinator elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
