"""The body cap of the alert and report routes (issue 4, data minimization): a body over
MAX_BODY_BYTES is refused with a 413 problem before it is parsed, by its Content-Length when sent, else while
it streams in, so it is never held in memory whole."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from backbone.problems import Problem
from intake.domain.limits import MAX_BODY_BYTES


class ContentTooLarge(Problem):
    status, title = 413, "Content too large"


def _too_large() -> ContentTooLarge:
    return ContentTooLarge(
        f"the request body exceeds the limit of {MAX_BODY_BYTES // 1024} KB ({MAX_BODY_BYTES} bytes)",
        limit=MAX_BODY_BYTES,
    )


class CappedRoute(APIRoute):
    """Reads the body (capped) before FastAPI parses it, so 413 answers as problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def capped(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise _too_large()
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise _too_large()
            request._body = bytes(body)  # what request.body() returns from now on
            return await handler(request)

        return capped
