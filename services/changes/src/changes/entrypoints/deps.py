"""What the routes share: who may call them, writes that take effect once per
Idempotency-Key, and keyset pages with a `Link: rel="next"`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse

from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from backbone.uow import UnitOfWork
from contracts.permissions import Permission

# Every role reads; client and vendor contacts only records linked to their client or vendor.
Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]
ChangeRequester = Annotated[Principal, requires(Permission.CHANGES_REQUEST)]
RollbackRequester = Annotated[Principal, requires(Permission.ROLLBACKS_REQUEST)]
WorkOrderManager = Annotated[Principal, requires(Permission.WORK_ORDERS_MANAGE)]
WorkaroundImplementer = Annotated[Principal, requires(Permission.WORKAROUNDS_IMPLEMENT)]
RcaConductor = Annotated[Principal, requires(Permission.RCA_CONDUCT)]
ProblemManager = Annotated[Principal, requires(Permission.PROBLEMS_MANAGE)]
KbAuthor = Annotated[Principal, requires(Permission.KB_ARTICLES_CREATE)]
ReviewManager = Annotated[Principal, requires(Permission.POST_INCIDENT_REVIEWS_MANAGE)]

After = Annotated[UUID | None, Query(description="Keyset cursor: the last `id` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]


async def write(
    request: Request, uow: UnitOfWork, caller: Principal, status: int, work: Callable[[], Awaitable[Any]]
) -> JSONResponse:
    """Run ``work`` and commit, once per Idempotency-Key; a refusal raises before anything is
    committed, so nothing is written."""

    async def run() -> tuple[int, Any]:
        return status, await work()

    return await respond_once(request, uow, user_scope(caller), run)


def paged(
    request: Request, response: Response, rows: list[dict[str, Any]], limit: int
) -> list[dict[str, Any]]:
    """The page, oldest first; a full page carries a link to the next."""
    if len(rows) == limit:
        following = request.url.include_query_params(after=str(rows[-1]["id"]))
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return rows
