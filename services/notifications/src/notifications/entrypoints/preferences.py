"""HTTP routes of users' notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.auth import Caller, Principal
from backbone.problems import Forbidden
from contracts.enums import ChannelKind, Severity
from contracts.permissions import Permission
from notifications.handlers import preferences as handlers
from notifications.views import preferences as views

router = APIRouter(prefix="/v1")


class PreferencesIn(Strict):
    muted_kinds: list[ChannelKind] = Field(default=[], description="Channel kinds not to reach this user on.")
    muted_event_types: list[str] = Field(default=[], max_length=100)
    min_severity: Severity | None = Field(default=None, description="Only events at least this severe.")
    slack_handle: str | None = Field(
        default=None, max_length=100, description="Slack member id (U…) or name."
    )


class PreferencesOut(BaseModel):
    user_id: UUID
    tenant_id: UUID
    muted_kinds: list[str]
    muted_event_types: list[str]
    min_severity: str | None
    slack_handle: str | None
    updated_at: datetime | None


def _self_or_manager(caller: Principal, user_id: UUID) -> None:
    if caller.user_id != user_id and not caller.can(Permission.NOTIFICATIONS_MANAGE):
        raise Forbidden("only the user or a notifications manager may see or change these preferences")


@router.get("/users/{user_id}/notification-preferences", response_model=PreferencesOut, tags=["preferences"])
async def get_preferences(user_id: UUID, uow: UowDep, caller: Caller) -> Any:
    _self_or_manager(caller, user_id)
    return await views.get_preferences(uow, caller, user_id)


@router.put("/users/{user_id}/notification-preferences", response_model=PreferencesOut, tags=["preferences"])
async def put_preferences(user_id: UUID, body: PreferencesIn, uow: UowDep, caller: Caller) -> Any:
    """A user's own notification preferences (or a notifications manager's change to them)."""
    _self_or_manager(caller, user_id)
    row = await handlers.put_preferences(uow, caller, user_id, body.model_dump())
    await uow.commit()
    return row
