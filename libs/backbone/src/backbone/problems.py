"""RFC 9457 problem+json for every error (docs/architecture.md "Conventions"): bad input never
becomes a 500."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from backbone.db import is_transient, sqlstate
from backbone.openapi import document_problems

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# untranslatable_character (NUL in jsonb), character_not_in_repertoire (NUL in text)
UNSTORABLE_TEXT = frozenset({"22P05", "22021"})


class Problem(Exception):
    """Raise from any layer to answer with a problem document."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, *, status: int | None = None, title: str | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.extra = extra


class NotFound(Problem):
    status, title = 404, "Not found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class Unprocessable(Problem):
    status, title = 422, "Unprocessable content"


def problem_response(
    status: int, title: str, detail: str, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(jsonable_encoder({k: v for k, v in extra.items() if v is not None}))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def content_too_large(limit: int | None, instance: str | None = None) -> JSONResponse:
    """413 for a body over its route's cap (see backbone.app: the cap applies before anything,
    authentication included, reads the body)."""
    detail = (
        f"the request body exceeds the limit of {limit // 1024} KB ({limit} bytes)"
        if limit is not None
        else "the request body is too large"
    )
    response = problem_response(413, "Content too large", detail, instance, limit=limit)
    # The rest of the body is not wanted: the client should stop sending it.
    response.headers["Connection"] = "close"
    return response


def install(app: FastAPI) -> None:
    document_problems(app)  # the OpenAPI document says what the handlers below answer

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return problem_response(
            422, "Unprocessable content", f"{where}: {first['msg']}", request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:  # raised by the body cap while the body was read
            return content_too_large(request.scope.get(MAX_BODY_SIZE_SCOPE_KEY), request.url.path)
        title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}.get(
            exc.status_code, "Error"
        )
        return problem_response(exc.status_code, title, str(exc.detail), request.url.path)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # The backstop behind each handler's own checks, for two requests racing: the
        # transaction was rolled back, nothing was written.
        code = sqlstate(exc)
        constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
        if code == "23505":
            return problem_response(
                409, "Conflict", "conflicts with an existing record", request.url.path, constraint=constraint
            )
        if code == "23503":
            return problem_response(
                422, "Unprocessable content", "refers to a record that does not exist", request.url.path
            )
        return await _unexpected(request, exc)

    @app.exception_handler(DBAPIError)
    async def _unstorable(request: Request, exc: DBAPIError) -> JSONResponse:
        # Text PostgreSQL cannot store (a NUL character, in text or jsonb) is bad input, not a
        # fault: 422. The transaction was rolled back, nothing was written.
        code = sqlstate(exc)
        if code in UNSTORABLE_TEXT:
            return problem_response(
                422,
                "Unprocessable content",
                "the request holds text that cannot be stored (a NUL character, \\u0000)",
                request.url.path,
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):
            # The database or broker is briefly unavailable (connection lost, timeout, too many
            # connections): 503 with Retry-After tells a sender such as Alertmanager to resend.
            log.warning("transient fault", path=request.url.path, error=type(exc).__name__)
            response = problem_response(
                503,
                "Service unavailable",
                "A database or broker fault interrupted the request; it changed nothing. Retry shortly.",
                request.url.path,
            )
            response.headers["Retry-After"] = "1"
            return response
        # A bug; logged with its trace id, answered as retryable.
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            500,
            "Internal error",
            "The request failed; it changed nothing and may be retried.",
            request.url.path,
        )
