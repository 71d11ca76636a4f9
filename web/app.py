"""The FastAPI app that `duban web` serves: `create_app()` builds it (uvicorn's factory)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.auth import LoginRequired
from web.auth import router as auth_router
from web.dashboard import router as dashboard_router
from web.department import router as department_router
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


def create_app() -> FastAPI:
    app = FastAPI(title="duban", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(department_router)
    app.include_router(auth_router)
    app.include_router(dashboard_router)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            # Pages carry a unit's data or a coordinator's view: no shared cache keeps them.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

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

    return app
