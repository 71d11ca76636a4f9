"""The FastAPI app that `duban web` serves: `create_app()` builds it (uvicorn's factory)."""

from __future__ import annotations

import gc
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.auth import router as auth_router
from web.dashboard import campaign, campaigns, export, unit
from web.department import router as department_router
from web.deps import LoginRequired
from web.pages import HERE, templates

# No inline script or style anywhere: a summary that smuggled markup past escaping still could
# not run. No referrer: the department's URL is its key and must not leak to other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def create_app() -> ASGIApp:
    app = FastAPI(title="duban", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(department_router)
    app.include_router(auth_router)
    for dashboard in (campaigns, campaign, export, unit):
        app.include_router(dashboard.router)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def bad_value(request: Request, exc: RequestValidationError) -> Response:
        # A number in the path, the query or a form that is not one (or out of range, see
        # `web.deps.RowId`): the same page as any bad request, not FastAPI's JSON. A wrong
        # value in the address means no such page.
        in_address = any(e.get("loc", ("",))[0] in ("path", "query") for e in exc.errors())
        if in_address:
            return await http_error(request, StarletteHTTPException(404))
        return await http_error(
            request, StarletteHTTPException(400, "提交的内容无效，请返回页面后重试。")
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "页面不存在", 405: "不支持的操作", 413: "提交内容过大"}
        return templates.TemplateResponse(
            request,
            "message.html",
            {
                "title": titles.get(exc.status_code, "请求无法处理"),
                "text": exc.detail
                if isinstance(exc.detail, str) and exc.status_code != 404
                else "请检查链接是否完整。",
            },
            status_code=exc.status_code,
        )

    # Everything imported and built by now lives as long as the process: moved out of the
    # collector's sight, it is not walked again at every collection (the p99 outliers).
    gc.freeze()
    return SecurityHeaders(app)


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` (and `no-store` to pages) to every response. Plain ASGI: the
    decorator-style middleware costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = not scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if page and "cache-control" not in headers:
                    # Pages carry a unit's data or a coordinator's view: no cache keeps them.
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
