"""HTTP routes of workarounds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from changes.entrypoints.deps import Viewer, WorkaroundImplementer, listing, patched, write
from changes.handlers import workaround as handlers
from changes.views.workaround import Workaround, reader
from contracts.enums import EffectivenessLevel, WorkaroundStatus

router = APIRouter(prefix="/v1", tags=["workarounds"])


class WorkaroundIn(Strict):
    incident_id: UUID
    description: str = Field(min_length=1, max_length=20000)
    effectiveness_level: EffectivenessLevel
    implemented_at: datetime
    status: WorkaroundStatus = WorkaroundStatus.ACTIVE


class WorkaroundPatch(Strict):
    status: WorkaroundStatus | None = None
    superseded_by_id: UUID | None = None
    effectiveness_level: EffectivenessLevel | None = None
    description: str | None = Field(default=None, min_length=1, max_length=20000)


@router.post("/workarounds", status_code=201, response_model=Workaround)
async def implement(
    body: WorkaroundIn, request: Request, caller: WorkaroundImplementer, uow: UowDep
) -> JSONResponse:
    """Record a workaround (000/001/002 "Implementing Workarounds"): 201, status `active` unless
    given. Needs `workarounds.implement`. The incident must exist and the effectiveness level
    be one of the enumeration (422 otherwise)."""
    fields = body.model_dump()
    return await write(request, uow, caller, 201, lambda: handlers.implement(uow, caller, fields))


@router.patch("/workarounds/{workaround_id}", response_model=Workaround)
async def update(
    workaround_id: UUID, body: WorkaroundPatch, request: Request, caller: WorkaroundImplementer, uow: UowDep
) -> JSONResponse:
    """Supersede (optionally naming the better workaround), deactivate or reactivate a
    workaround, or correct its description or effectiveness; 409 once superseded."""
    fields = patched(body, "status", "effectiveness_level", "description")
    return await write(request, uow, caller, 200, lambda: handlers.update(uow, caller, workaround_id, fields))


@router.get("/workarounds/{workaround_id}", response_model=Workaround)
async def get_workaround(workaround_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One workaround (404 if unknown or out of the caller's scope)."""
    return await reader.get(uow.session, caller, workaround_id)


listing(
    router,
    "/workarounds",
    Workaround,
    reader,
    "list_workarounds",
    "Workarounds the caller may see, oldest first.",
    status=WorkaroundStatus,
    incident_id=UUID,
    effectiveness_level=EffectivenessLevel,
)
