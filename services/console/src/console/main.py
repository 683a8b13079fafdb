"""Console: the web pages people on call use (incidents, SLA countdowns, changes, audit), served
as a backend-for-frontend over the services' public HTTP APIs with the signed-in user's token. It
owns no schema and consumes no topic (docs/adr/0014-web-console.md). Entry: `incidentctl serve
console`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import make_asgi_app

from backbone import telemetry
from console.adapters.api import Api, ApiError
from console.config import Settings
from console.entrypoints import audit, change, incident, session
from console.entrypoints.deps import Forged, SignIn, render, sign_in_url

HERE = Path(__file__).parent
log = structlog.get_logger("console")

# Scripts and styles come from this origin only (htmx is a vendored file): no inline script can
# run, so an injected string cannot become code. htmx is told not to evaluate (base.html).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create(settings: Settings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or Settings()
    telemetry.setup(
        settings.service_name,
        level=settings.log_level,
        json_logs=settings.log_json,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await app.state.api.close()

    app = FastAPI(
        title="Console",
        description=__doc__ or "",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # pages, not an API: the services publish the APIs
    )
    app.state.settings = settings
    app.state.api = Api(settings, transport)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/metrics", make_asgi_app())
    for module in (session, incident, change, audit):
        app.include_router(module.router)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(SignIn)
    async def signin(request: Request, exc: SignIn) -> Response:
        target = sign_in_url(exc.next_path if request.method == "GET" else "/incidents", exc.reason)
        if request.headers.get("hx-request"):  # a polled fragment: the whole page goes to sign-in
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forged)
    async def forged(request: Request, exc: Forged) -> Response:
        return _error(
            request,
            403,
            "This form is out of date or did not come from the console; reload the page and try again.",
        )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401:
            return await signin(request, SignIn(request.url.path, "Your session has ended; sign in again."))
        return _error(request, exc.page_status, exc.detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Logged with its trace for the operator; the person sees a message, never a stack trace.
        log.exception("console.unexpected", path=request.url.path)
        return _error(request, 500, "Something went wrong in the console; the error was logged.")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready once its templates load; it does not wait on the services it calls, so one of
        them down shows as a message on the pages that need it, not as a console down."""
        app.state.templates.get_template("base.html")
        return JSONResponse({"status": "ok", "checks": {"templates": "ok"}})

    return app


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    if request.headers.get("hx-request"):  # a polled fragment keeps the page and shows why
        return HTMLResponse(f'<p class="error" role="alert">{_escape(message)}</p>', status_code=200)
    response = render(request, "error.html", {"status": status, "message": message}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
