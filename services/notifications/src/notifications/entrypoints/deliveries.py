"""HTTP routes of deliveries: list and read, with their outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from backbone.app import UowDep
from notifications.entrypoints.deps import Manager
from notifications.views import deliveries as views

router = APIRouter(prefix="/v1")


class DeliveryOut(BaseModel):
    id: UUID
    tenant_id: UUID
    event_id: UUID
    event_type: str
    channel_id: UUID
    channel_kind: str
    recipient_key: str
    recipient_user_id: UUID | None
    incident_id: UUID | None
    communication_id: UUID | None
    reminder_id: UUID | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    failed_at: datetime | None
    created_at: datetime


@router.get("/deliveries", response_model=list[DeliveryOut], tags=["deliveries"])
async def list_deliveries(
    uow: UowDep,
    caller: Manager,
    channel_id: UUID | None = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(pending|sending|sent|failed)$")] = None,
    event_id: UUID | None = None,
    incident_id: UUID | None = None,
    after: Annotated[UUID | None, Query(description="Cursor: the last id of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Deliveries of the tenant, newest first, with their outcome (attempts, last error)."""
    return await views.list_deliveries(
        uow,
        caller,
        channel_id=channel_id,
        status=status_,
        event_id=event_id,
        incident_id=incident_id,
        after=after,
        limit=limit,
    )


@router.get("/deliveries/{delivery_id}", response_model=DeliveryOut, tags=["deliveries"])
async def get_delivery(delivery_id: UUID, uow: UowDep, caller: Manager) -> Any:
    return await views.get_delivery(uow, caller, delivery_id)
