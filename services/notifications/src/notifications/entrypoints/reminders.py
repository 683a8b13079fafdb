"""HTTP API of incident reminders (004 ``incident_reminders``) and the timer firing them.

Scheduling and cancelling need `reminders.manage` (incident managers, technical support);
listing needs `incidents.view` on the incident (narrowed for client and vendor contacts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.clock import Clock
from backbone.idempotency import respond_once, user_scope
from backbone.timers import TimerLoop
from contracts.enums import ReminderChannel
from contracts.permissions import Permission
from notifications.config import Settings
from notifications.domain.reminders import ReminderStatus
from notifications.handlers import reminders as handlers
from notifications.views import reminders as views

router = APIRouter(prefix="/v1", tags=["reminders"])

Manager = Annotated[Principal, requires(Permission.REMINDERS_MANAGE)]
Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]


class ReminderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reminder_type: str = Field(min_length=1, max_length=100, examples=["follow_up"])
    scheduled_for: datetime = Field(description="When it fires; with a time zone offset.")
    channel: ReminderChannel
    user_ids: list[UUID] | None = Field(
        default=None, max_length=100, description="Whom to remind; the caller when omitted."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class ReminderOut(BaseModel):
    id: UUID
    incident_id: UUID
    reminder_type: str
    scheduled_for: datetime
    channel: ReminderChannel
    user_ids: list[UUID]
    metadata: dict[str, Any]
    status: ReminderStatus
    sent_at: datetime | None
    fired_at: datetime | None
    cancelled_at: datetime | None


@router.post(
    "/incidents/{incident_id}/reminders",
    status_code=status.HTTP_201_CREATED,
    response_model=ReminderOut,
    responses={404: {"description": "No such incident"}, 409: {"description": "Incident finished"}},
)
async def schedule_reminder(
    incident_id: UUID, body: ReminderRequest, request: Request, caller: Manager, uow: UowDep
) -> JSONResponse:
    """Schedule a reminder for an incident.

    At `scheduled_for` it is dispatched to its channel (`email` or `slack`) for `user_ids`;
    `sms` is accepted and recorded as `unsupported` when it fires (no SMS provider). A reminder
    whose incident is resolved, closed or deleted by then is `skipped`. 404 for an unknown
    incident, 409 for one already resolved or closed, 422 for a time in the past or an unknown
    user. Accepts an `Idempotency-Key` header.
    """

    async def schedule() -> tuple[int, Any]:
        row = await handlers.schedule_reminder(uow, caller, incident_id=incident_id, **body.model_dump())
        return 201, ReminderOut.model_validate(row)

    return await respond_once(request, uow, user_scope(caller), schedule)


@router.get("/incidents/{incident_id}/reminders", response_model=list[ReminderOut])
async def list_reminders(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[ReminderOut]:
    """The incident's reminders, in due order, with their status."""
    return [ReminderOut.model_validate(r) for r in await views.list_reminders(uow, caller, incident_id)]


@router.delete(
    "/reminders/{reminder_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such reminder"}, 409: {"description": "Already fired or cancelled"}},
)
async def cancel_reminder(reminder_id: UUID, caller: Manager, uow: UowDep) -> Response:
    """Cancel a reminder that has not fired yet."""
    await handlers.cancel_reminder(uow, caller, reminder_id)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def reminder_loop(settings: Settings, clock: Clock) -> TimerLoop:
    """The background task firing due reminders (``Service.background``): timer rows claimed
    with FOR UPDATE SKIP LOCKED by whichever replica polls first."""
    return TimerLoop(
        "reminders", handlers.fire_due_reminders, clock=clock, interval_s=settings.reminder_poll_s
    )
