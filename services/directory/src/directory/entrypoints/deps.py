"""What the directory's routes share: page parameters, the output base, body-to-values helpers,
the commit of a handler's work and the token signer."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict

from backbone.auth import TokenSigner
from backbone.problems import Problem, Unprocessable
from backbone.uow import UnitOfWork

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
