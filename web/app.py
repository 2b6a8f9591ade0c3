"""The web app: ``create_app(runtime)`` builds it (there is no import-time app).

Server-rendered Jinja templates, no JavaScript needed. Every response gets
security headers: a Content-Security-Policy with no inline scripts, framing
denied, no MIME sniffing, no referrer (acknowledgement links hold tokens),
and ``Cache-Control: no-store`` on every page, since pages may hold
safeguarding content. HEAD is answered on every GET page (:class:`HeadAsGet`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.deps import CsrfFailed, Forbidden, LoginRequired
from web.routes import ack, alerts, audit, auth, digest, health, queue, reports, users, webhook
from web.views import STATIC, make_templates, render

if TYPE_CHECKING:
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
CSP_INLINE_STYLES = CSP.replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")
"""For the digest and the governors' report only (``web.views.allow_inline_styles``):
rendered by ``alerts`` with inline styles (they are also emails and stand-alone
files) and holding counts, no comment text or names. Scripts stay forbidden."""


class HeadAsGet:
    """Answer HEAD on every GET page: run it as GET and send the headers without the body.

    Starlette routes answer only the methods they declare, so a HEAD (link
    checkers, uptime monitors) would get 405. The route table keeps declaring
    GET only, so the permission checks that enumerate it are unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def create_app(runtime: Runtime) -> FastAPI:
    """Build the web app for ``runtime``.

    Args:
        runtime: Settings, policy, database and connectors.

    Returns:
        The FastAPI application (serve it with uvicorn; see ``web.serve``).
    """
    app = FastAPI(
        title="schoolwatch",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    app.state.templates = make_templates(runtime.policy.tz)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (auth, queue, alerts, digest, reports, audit, health, ack, users, webhook):
        app.include_router(module.router)
    _handlers(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers = response.headers
        inline = getattr(request.state, "inline_styles", False) is True
        headers["Content-Security-Policy"] = CSP_INLINE_STYLES if inline else CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        if runtime.settings.web_base_url.startswith("https://"):
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    app.add_middleware(HeadAsGet)
    return app


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every page route of the app, including those of included routers (for the gate tests)."""
    out: list[APIRoute] = []
    stack: list[object] = list(app.routes)
    while stack:
        route = stack.pop(0)
        if isinstance(route, APIRoute):
            out.append(route)
            continue
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack.extend(getattr(inner, "routes", []))
    return out


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        request.state.user = None
        return render(
            request,
            "error.html",
            {"title": "Please sign in", "message": "Your session has ended. Sign in again."},
            status_code=401,
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(
            request,
            "error.html",
            {
                "title": "Not available to your role",
                "message": "Your role does not give access to this page. The attempt was recorded.",
            },
            status_code=403,
        )

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        return render(
            request,
            "error.html",
            {
                "title": "Form expired",
                "message": "This form was not sent from your current session. Go back, "
                "reload the page and try again.",
            },
            status_code=403,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Not allowed", 409: "Conflict", 400: "Bad request"}
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else ""
        if exc.status_code == 404:
            message = "There is nothing here, or it is not yours to see."
        if not hasattr(request.state, "user"):
            request.state.user = None
        return render(
            request,
            "error.html",
            {"title": titles.get(exc.status_code, "Error"), "message": message},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        if not hasattr(request.state, "user"):
            request.state.user = None
        return render(
            request,
            "error.html",
            {"title": "Bad request", "message": "Some of the values sent were not valid."},
            status_code=400,
        )
