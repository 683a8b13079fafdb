"""HTTP routes of work orders."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from changes.entrypoints.deps import Viewer, WorkOrderManager, listing, patched, write
from changes.handlers import work_order as handlers
from changes.views.work_order import WorkOrder, reader
from contracts.enums import WorkOrderStatus, WorkType

router = APIRouter(prefix="/v1", tags=["work orders"])


class WorkOrderIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    work_type: WorkType
    description: str | None = Field(default=None, max_length=20000)
    incident_id: UUID | None = None
    change_id: UUID | None = None
    problem_id: UUID | None = None
    assigned_to_id: UUID | None = None


class WorkOrderPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    status: WorkOrderStatus | None = None
    assigned_to_id: UUID | None = None


@router.post("/work-orders", status_code=201, response_model=WorkOrder)
async def create(body: WorkOrderIn, request: Request, caller: WorkOrderManager, uow: UowDep) -> JSONResponse:
    """Create a work order (002 "Work Orders"): 201 with status `created`, or `assigned` when
    given an assignee. Needs `work_orders.manage`. Linked incident, change and problem must
    exist, the assignee must exist and be active (422 otherwise)."""
    fields = body.model_dump(exclude_none=True)
    return await write(request, uow, caller, 201, lambda: handlers.create(uow, caller, fields))


@router.patch("/work-orders/{order_id}", response_model=WorkOrder)
async def update(
    order_id: UUID, body: WorkOrderPatch, request: Request, caller: WorkOrderManager, uow: UowDep
) -> JSONResponse:
    """Update a work order: its title, description, assignee or status (created → assigned →
    in_progress → completed, or cancelled; 409 for a move its status forbids)."""
    fields = patched(body, "title", "status")
    return await write(request, uow, caller, 200, lambda: handlers.update(uow, caller, order_id, fields))


@router.get("/work-orders/{order_id}", response_model=WorkOrder)
async def get_order(order_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One work order (404 if unknown or out of the caller's scope)."""
    return await reader.get(uow.session, caller, order_id)


listing(
    router,
    "/work-orders",
    WorkOrder,
    reader,
    "list_orders",
    "Work orders the caller may see, oldest first.",
    status=WorkOrderStatus,
    work_type=WorkType,
    incident_id=UUID,
    change_id=UUID,
    problem_id=UUID,
    assigned_to_id=UUID,
)
