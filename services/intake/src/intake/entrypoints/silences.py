"""HTTP API for silences (maintenance windows): create, list, expire. Tenant-scoped; needs the
silences.manage permission."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once
from backbone.problems import Unprocessable
from contracts.events import Matcher
from contracts.permissions import Permission
from intake.domain.silences import MAX_MATCHERS
from intake.handlers import silences as handlers

router = APIRouter(prefix="/v1/silences", tags=["silences"])

Manager = Annotated[Principal, requires(Permission.SILENCES_MANAGE)]


class NewSilence(BaseModel):
    matchers: list[Matcher] = Field(min_length=1, max_length=MAX_MATCHERS)
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    ends_at: AwareDatetime
    comment: str = Field(default="", max_length=2000)
    client_id: UUID | None = Field(default=None, description="Only alerts of this client's integrations.")


class SilenceOut(BaseModel):
    id: UUID
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    comment: str
    client_id: UUID | None
    created_by: UUID | None
    state: Literal["pending", "active", "expired"]
    silenced_alerts: int = Field(description="Firing alerts held back by this silence.")
    silenced_keys: int = Field(description="Distinct dedup keys among them.")


class SilencePage(BaseModel):
    items: list[SilenceOut]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SilenceOut)
async def create_silence(body: NewSilence, request: Request, uow: UowDep, caller: Manager) -> JSONResponse:
    """Create a silence: firing alerts of the tenant whose labels match every matcher, between
    starts_at and ends_at, are recorded and counted but open nothing. Matchers: `=`, `!=`, `=~`,
    `!~` (regular expressions match the whole value). Accepts an Idempotency-Key header."""

    async def work() -> tuple[int, SilenceOut]:
        try:
            silence = await handlers.create(
                uow,
                caller,
                matchers=body.matchers,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
                comment=body.comment,
                client_id=body.client_id,
            )
        except handlers.InvalidSilence as exc:
            raise Unprocessable(str(exc)) from exc
        return 201, SilenceOut(**silence)

    return await respond_once(request, uow, f"{caller.tenant_id}/silences", work)


@router.get("", response_model=SilencePage)
async def list_silences(
    uow: UowDep,
    caller: Manager,
    state: Annotated[Literal["pending", "active", "expired"] | None, Query()] = None,
) -> SilencePage:
    """The tenant's silences, newest first, optionally only those in one state."""
    rows = await handlers.listed(uow, caller, state=state)
    return SilencePage(items=[SilenceOut(**r) for r in rows])


@router.get("/{silence_id}", response_model=SilenceOut)
async def get_silence(silence_id: UUID, uow: UowDep, caller: Manager) -> SilenceOut:
    return SilenceOut(**await handlers.one(uow, caller, silence_id))


@router.delete("/{silence_id}", response_model=SilenceOut)
async def expire_silence(silence_id: UUID, uow: UowDep, caller: Manager) -> SilenceOut:
    """Expire a silence now (its ends_at becomes now; a pending one never starts). Expiring an
    expired silence changes nothing."""
    found = await handlers.expire(uow, caller, silence_id)
    await uow.commit()
    return SilenceOut(**found)
