"""The FastAPI app that `duban web` serves: `create_app()` builds it (uvicorn's factory)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.db import serve_requests
from tasks.link.storage import STALE_PART_S, sweep_parts
from web import unavailable
from web.auth import router as auth_router
from web.dashboard import campaign, campaigns, export, report, unit
from web.department import router as department_router
from web.deps import LoginRequired
from web.methods import HeadAndOptions
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


_log = logging.getLogger("duban.web")


def create_app() -> ASGIApp:
    serve_requests()
    app = FastAPI(title="duban", docs_url=None, redoc_url=None, openapi_url=None, lifespan=upkeep)
    static = Mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.router.routes.append(static)
    dashboard = (campaigns, campaign, export, report, unit)
    routers = (department_router, auth_router, *(page.router for page in dashboard))
    for router in routers:
        app.include_router(router)
    unavailable.install(app)

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
            headers=exc.headers,  # Allow with a 405, Retry-After with a 429 or 503
        )

    # Everything imported and built by now lives as long as the process: moved out of the
    # collector's sight, it is not walked again at every collection (the p99 outliers).
    gc.freeze()
    return SecurityHeaders(HeadAndOptions(app, [static, *(r for x in routers for r in x.routes)]))


@asynccontextmanager
async def upkeep(_app: FastAPI) -> AsyncIterator[None]:
    """At start-up, and then every `STALE_PART_S`, remove what uploads cut short by a killed
    process left behind (`sweep_parts`): a part is stale only once it has gone unwritten that
    long, so a live upload, of this process or another sharing the folder, is never touched."""
    await run_in_threadpool(_sweep)

    async def every_while() -> None:
        while True:
            await asyncio.sleep(STALE_PART_S)
            await run_in_threadpool(_sweep)

    task = asyncio.create_task(every_while())
    try:
        yield
    finally:
        task.cancel()


def _sweep() -> None:
    try:
        count, size = sweep_parts()
    except OSError as exc:  # an unreadable folder must not keep the pages from being served
        _log.warning("could not look for upload leftovers: %s", exc)
        return
    if count:
        _log.warning("removed %d upload leftover(s) (.part files), %d bytes", count, size)


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
