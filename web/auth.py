"""Signing coordinators in and out. Dashboard routes depend on `signed_in`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from config.settings import get_settings
from tasks.accounts import Coordinator, coordinator_of, csrf_ok, csrf_token, session_cookie, sign_in
from web.pages import templates

router = APIRouter()
COOKIE = "duban_session"


@dataclass(frozen=True)
class Session:
    coordinator: Coordinator
    csrf: str


class LoginRequired(Exception):
    """Raised by `signed_in`; the app turns it into a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def signed_in(request: Request) -> Session:
    cookie = request.cookies.get(COOKIE)
    who = coordinator_of(cookie)
    if who is None or cookie is None:
        if request.method != "GET":
            raise HTTPException(403, "请先登录。")
        raise LoginRequired(
            request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
    return Session(who, csrf_token(cookie))


SignedIn = Annotated[Session, Depends(signed_in)]


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(request.cookies.get(COOKIE), token):
        raise HTTPException(403, "页面已过期，请刷新后重试。")


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
