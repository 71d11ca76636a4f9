"""HEAD and OPTIONS on every page. Link checkers and some mail scanners ask HEAD before (or
instead of) GET; a 405 there marks a unit's link as broken. HEAD runs the page's GET, which
changes nothing by rule (a scanner opens every link), and only its headers are sent. OPTIONS
lists the methods a path answers."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAndOptions:
    """Plain ASGI in front of the app. `routes` are the app's routes as declared (FastAPI
    wraps included routers in objects that do not list their methods)."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
        elif method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _headers_only(send))
        else:
            allowed = self.methods_for(scope)
            if not allowed:  # no such page: the app answers 404 as for any other method
                await self.app(scope, receive, send)
                return
            allow = ", ".join(sorted(allowed)).encode()
            await send(
                {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]}
            )
            await send({"type": "http.response.body", "body": b""})

    def methods_for(self, scope: Scope) -> set[str]:
        allowed: set[str] = set()
        for route in self.routes:
            if route.matches(scope)[0] == Match.NONE:
                continue
            if isinstance(route, Mount):  # the static files answer GET and HEAD
                allowed |= {"GET", "HEAD", "OPTIONS"}
            else:
                methods = set(getattr(route, "methods", None) or ())
                allowed |= methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        return allowed


def _headers_only(send: Send) -> Send:
    """The GET's answer without its body; its Content-Length stays, as HEAD requires."""

    async def send_headers(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
        elif not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b""})

    return send_headers
