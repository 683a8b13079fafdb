"""HTTP routes of tenants' template overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from contracts.enums import ChannelKind
from notifications.entrypoints.deps import Manager
from notifications.handlers import templates as handlers
from notifications.views import templates as views

router = APIRouter(prefix="/v1")


class TemplateIn(Strict):
    subject: str | None = Field(default=None, max_length=1000, description="Email only.")
    body: str = Field(min_length=1, max_length=20_000, description="Email body, or Slack text (mrkdwn).")


class TemplateOut(BaseModel):
    id: UUID
    tenant_id: UUID
    event_type: str
    channel_kind: str
    subject: str | None
    body: str
    updated_at: datetime


@router.get("/templates", response_model=list[TemplateOut], tags=["templates"])
async def list_templates(uow: UowDep, caller: Manager) -> Any:
    """The tenant's overrides (anything not listed uses the built-in default)."""
    return await views.list_templates(uow, caller)


@router.put("/templates/{event_type}/{kind}", response_model=TemplateOut, tags=["templates"])
async def put_template(
    event_type: str, kind: ChannelKind, body: TemplateIn, request: Request, uow: UowDep, caller: Manager
) -> Any:
    """Override the Jinja2 template of one event type (or `*`) on one channel kind (email,
    slack). Checked on sample data first, with the limits of sending (time, memory, output): a
    template that does not render within them is refused (422)."""
    row = await handlers.put_template(
        uow, caller, request.app.state.template_runner, event_type, kind, body.subject, body.body
    )
    await uow.commit()
    return row


@router.delete("/templates/{event_type}/{kind}", status_code=status.HTTP_204_NO_CONTENT, tags=["templates"])
async def delete_template(event_type: str, kind: ChannelKind, uow: UowDep, caller: Manager) -> None:
    await handlers.delete_template(uow, caller, event_type, kind)
    await uow.commit()
