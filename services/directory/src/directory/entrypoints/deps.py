"""What the directory's routes share: page parameters, the output base, body-to-values helpers,
the commit of a handler's work, the token signer, and the two routes every word has alike:
read one row, change one row."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Table

from backbone.app import UowDep
from backbone.auth import Principal, TokenSigner, requires
from backbone.problems import Problem, Unprocessable
from backbone.uow import UnitOfWork
from contracts.permissions import Permission
from directory.views import shared as views

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
After = Annotated[UUID | None, Query(description="Cursor: the last id of the previous page.")]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


async def committed(uow: UnitOfWork, work: Awaitable[T]) -> T:
    """The handler's answer, once the request's unit of work has committed it."""
    result = await work
    await uow.commit()
    return result


def signer_of(request: Request) -> TokenSigner:
    signer: TokenSigner | None = request.app.state.signer
    if signer is None:
        raise Problem(
            "token signing is not configured (DIRECTORY_SIGNING_KEY)", status=503, title="Unavailable"
        )
    return signer


def changes_of(body: BaseModel, nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields the caller sent; null only where null means "clear it"."""
    sent = body.model_dump(exclude_unset=True, mode="python")
    for field, value in sent.items():
        if value is None and field not in nullable:
            raise Unprocessable(f"{field}: may not be null", field=field)
    return {k: (v.value if hasattr(v, "value") else v) for k, v in sent.items()}


def values_of(body: BaseModel) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in body.model_dump(mode="python").items()}


def _endpoint(
    router: APIRouter,
    method: str,
    path: str,
    work: Callable[..., Awaitable[Any]],
    name: str,
    permission: Permission,
    out: type[BaseModel],
    body: type[BaseModel] | None = None,
    doc: str | None = None,
) -> None:
    """A route named ``name`` (its operation id and summary as a function of that name would
    give; tagged by the path's first part) calling ``work(uow, caller, id, [body])`` with the id
    the path names."""
    id_name = path.rsplit("{", 1)[1].split("}")[0]
    params = [inspect.Parameter(id_name, inspect.Parameter.KEYWORD_ONLY, annotation=UUID)]
    if body is not None:
        params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body))
    params += [
        inspect.Parameter("uow", inspect.Parameter.KEYWORD_ONLY, annotation=UowDep),
        inspect.Parameter(
            "caller", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Principal, requires(permission)]
        ),
    ]

    async def endpoint(**kwargs: Any) -> Any:
        sent = (kwargs["body"],) if body is not None else ()
        return await work(kwargs["uow"], kwargs["caller"], kwargs[id_name], *sent)

    endpoint.__signature__ = inspect.Signature(params, return_annotation=Any)  # type: ignore[attr-defined]
    endpoint.__doc__ = doc
    tag = path.split("/")[1]
    router.add_api_route(path, endpoint, methods=[method], name=name, response_model=out, tags=[tag])


def read_one(
    router: APIRouter, path: str, table: Table, what: str, permission: Permission, out: type[BaseModel]
) -> None:
    """GET ``path`` (named get_<what>): the caller's row of ``table`` by the path's id; 404
    "no <what> <id>" when absent or out of the caller's scope."""

    async def work(uow: UnitOfWork, caller: Principal, id_: UUID) -> Any:
        return await views.one(uow, caller, table, id_, what)

    _endpoint(router, "GET", path, work, f"get_{what.split()[0]}", permission, out)


def change_one(
    router: APIRouter,
    path: str,
    handler: Callable[[UnitOfWork, Principal, UUID, dict[str, Any]], Awaitable[Any]],
    permission: Permission,
    body: type[BaseModel],
    out: type[BaseModel],
    nullable: tuple[str, ...],
    doc: str,
) -> None:
    """PATCH ``path`` (named as ``handler``): the fields sent (null only where ``nullable``)
    given to ``handler`` for the path's id; answers the row, committed."""

    async def work(uow: UnitOfWork, caller: Principal, id_: UUID, sent: BaseModel) -> Any:
        return await committed(uow, handler(uow, caller, id_, changes_of(sent, nullable=nullable)))

    _endpoint(router, "PATCH", path, work, handler.__name__, permission, out, body, doc)
