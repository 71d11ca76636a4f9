"""What routes depend on, declared once: the signed-in coordinator (`SignedIn`, or
`SignedInInline` for a route that runs on the event loop) and the CSRF check of a POST."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from tasks.accounts import Coordinator, coordinator_of, csrf_ok, csrf_token

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


async def signed_in_inline(request: Request) -> Session:
    """`signed_in`, run on the event loop rather than in the thread pool: for a route that
    runs there too (see `web.dashboard.campaign`), one hop to a thread fewer."""
    return signed_in(request)


SignedIn = Annotated[Session, Depends(signed_in)]
SignedInInline = Annotated[Session, Depends(signed_in_inline)]


def check_csrf(request: Request, token: str | None) -> None:
    if not csrf_ok(request.cookies.get(COOKIE), token):
        raise HTTPException(403, "页面已过期，请刷新后重试。")
