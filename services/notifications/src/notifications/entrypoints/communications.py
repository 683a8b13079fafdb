"""HTTP API of recorded communications (000 "Recording Communications").

Recording needs `communications.record` (incident managers, technical support); reading needs
`incidents.view`, narrowed like incidents: a client or vendor contact sees only communications
of its client's or vendor's incidents that were addressed to it or to its kind of recipient.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from contracts.enums import CommunicationType, DeliveryMethod, DeliveryStatus, RecipientType
from contracts.permissions import Permission
from notifications.handlers import communications as handlers
from notifications.views import communications as views

router = APIRouter(prefix="/v1", tags=["communications"])

Recorder = Annotated[Principal, requires(Permission.COMMUNICATIONS_RECORD)]
Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]


class CommunicationRequest(BaseModel):
    # Unknown fields are refused (422), so a typo never silently drops part of a message.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    incident_id: UUID
    recipient_user_id: UUID | None = Field(
        default=None, description="A user of the tenant; optional when `recipient_type` is given."
    )
    recipient_type: RecipientType | None = Field(
        default=None, description="Required without `recipient_user_id`; else taken from the user's role."
    )
    communication_type: CommunicationType
    delivery_method: DeliveryMethod
    title: str = Field(default="", max_length=300)
    message: str = Field(min_length=1, max_length=20_000)


class CommunicationRecordedOut(BaseModel):
    communication_id: UUID
    delivery_status: DeliveryStatus
    sent_at: datetime


class CommunicationOut(BaseModel):
    id: UUID
    incident_id: UUID
    sender_id: UUID
    recipient_user_id: UUID | None
    recipient_type: RecipientType
    communication_type: CommunicationType
    delivery_method: DeliveryMethod
    title: str
    message: str
    sent_at: datetime
    delivery_status: DeliveryStatus
    delivery_error: str | None
    status_changed_at: datetime | None
    created_at: datetime


@router.post(
    "/communications",
    status_code=status.HTTP_201_CREATED,
    response_model=CommunicationRecordedOut,
    responses={404: {"description": "No such incident"}, 422: {"description": "A pre-check failed"}},
)
async def record_communication(
    body: CommunicationRequest, request: Request, caller: Recorder, uow: UowDep
) -> JSONResponse:
    """Record a communication about an incident and send it through the tenant's channel of its
    delivery method.

    Pre-checks (000): the incident exists (404 otherwise), the sender — the caller — is a known
    active user (403), the recipient user exists in the tenant and is active (422 naming
    `recipient_user_id`), or the recipient type is valid (422). A client or vendor contact can
    only receive communications about its own client's or vendor's incidents (422).

    Answers 201 with the id, `delivery_status` `pending` and `sent_at` (the time recorded). The
    status then moves as delivery reports back: `sent`, `delivered` or `failed`.
    Accepts an `Idempotency-Key` header.
    """

    async def record() -> tuple[int, Any]:
        result = await handlers.record_communication(uow, caller, **body.model_dump())
        return 201, CommunicationRecordedOut(**result)

    return await respond_once(request, uow, user_scope(caller), record)


@router.get("/communications/{communication_id}", response_model=CommunicationOut)
async def get_communication(communication_id: UUID, caller: Viewer, uow: UowDep) -> CommunicationOut:
    """One communication, with its current delivery status (404 if not visible to the caller)."""
    return CommunicationOut.model_validate(await views.get_communication(uow, caller, communication_id))


@router.get("/communications", response_model=list[CommunicationOut])
async def list_communications(
    request: Request,
    response: Response,
    caller: Viewer,
    uow: UowDep,
    incident_id: Annotated[UUID | None, Query(description="Only this incident's communications.")] = None,
    after: Annotated[
        UUID | None, Query(description="Keyset cursor: the last `id` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
) -> list[CommunicationOut]:
    """Communications the caller may see, newest first; a full page carries a `Link: rel="next"`."""
    rows = await views.list_communications(uow, caller, incident_id=incident_id, after=after, limit=limit)
    if len(rows) == limit:
        following = request.url.include_query_params(after=str(rows[-1]["id"]))
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [CommunicationOut.model_validate(r) for r in rows]
