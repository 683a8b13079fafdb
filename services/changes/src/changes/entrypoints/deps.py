"""What the routes share: who may call them, writes that take effect once per
Idempotency-Key, and keyset pages with a `Link: rel="next"`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import Parameter, Signature
from typing import Annotated, Any, Protocol, get_args, get_origin
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from changes.views.records import list_of
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


def patched(body: BaseModel, *required: str) -> dict[str, Any]:
    """The fields a PATCH sets (absent: left as they are); 422 for a ``required`` one set to null."""
    fields = body.model_dump(exclude_unset=True)
    for name, value in fields.items():
        if value is None and name in required:
            raise Unprocessable(f"{name}: may not be null", field=name)
    return fields


def paged(
    request: Request, response: Response, rows: list[dict[str, Any]], limit: int
) -> list[dict[str, Any]]:
    """The page, oldest first; a full page carries a link to the next."""
    if len(rows) == limit:
        following = request.url.include_query_params(after=str(rows[-1]["id"]))
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return rows


def _optional(kind: Any) -> Any:
    """``kind | None``, keeping an ``Annotated`` type's metadata (a Query's limits) outermost."""
    if get_origin(kind) is Annotated:
        base, *metadata = get_args(kind)
        return Annotated[(base | None, *metadata)]
    return kind | None


class Pages(Protocol):
    async def page(
        self, session: Any, caller: Principal, filters: dict[str, Any], after: UUID | None, limit: int, /
    ) -> list[dict[str, Any]]: ...


def listing(
    router: APIRouter, path: str, model: type[BaseModel], pages: Pages, name: str, doc: str, **filters: Any
) -> None:
    """Add ``GET path``: the records the caller may see, oldest first, a keyset page at a time,
    narrowed by each query parameter of ``filters`` (name: type; absent, not filtered). Every
    list route reads the same way, so one function serves them all; ``name`` and ``doc`` give
    the route the operation id and description /docs has always shown."""

    async def endpoint(
        request: Request,
        response: Response,
        caller: Principal,
        uow: UnitOfWork,
        after: UUID | None,
        limit: int,
        **given: Any,
    ) -> list[dict[str, Any]]:
        return paged(request, response, await pages.page(uow.session, caller, given, after, limit), limit)

    fixed = {"request": Request, "response": Response, "caller": Viewer, "uow": UowDep}
    params = [Parameter(n, Parameter.POSITIONAL_OR_KEYWORD, annotation=a) for n, a in fixed.items()]
    params += [Parameter("after", Parameter.KEYWORD_ONLY, default=None, annotation=After)]
    params += [Parameter("limit", Parameter.KEYWORD_ONLY, default=50, annotation=Limit)]
    params += [
        Parameter(n, Parameter.KEYWORD_ONLY, default=None, annotation=_optional(a))
        for n, a in filters.items()
    ]
    endpoint.__signature__ = Signature(params, return_annotation=list[dict[str, Any]])  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.__doc__ = doc
    router.get(path, response_model=list_of(model))(endpoint)
