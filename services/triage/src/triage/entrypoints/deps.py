"""What the HTTP routes of triage share: who may call them (the permission each needs) and the
idempotent write. Every write accepts an ``Idempotency-Key`` header and emits its events
(docs/architecture.md)."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from backbone.uow import UnitOfWork
from contracts.permissions import Permission

INT4_MAX = 2**31 - 1
Int4 = Annotated[int, Field(ge=-(2**31), le=INT4_MAX)]  # what an Integer column holds


Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]
Updater = Annotated[Principal, requires(Permission.INCIDENTS_UPDATE)]
Deleter = Annotated[Principal, requires(Permission.INCIDENTS_DELETE)]
Assigner = Annotated[Principal, requires(Permission.INCIDENTS_ASSIGN)]
Delegator = Annotated[Principal, requires(Permission.INCIDENTS_DELEGATE)]
Escalator = Annotated[Principal, requires(Permission.INCIDENTS_ESCALATE)]
TaskManager = Annotated[Principal, requires(Permission.INCIDENTS_TASKS_MANAGE)]
Commenter = Annotated[Principal, requires(Permission.INCIDENTS_COMMENTS_MANAGE)]


async def _once(
    request: Request, uow: UnitOfWork, caller: Principal, status: int, work: Callable[[], Awaitable[Any]]
) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        return status, await work()

    return await respond_once(request, uow, user_scope(caller), run)
