"""Reads of template overrides."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters.orm import (
    template_overrides,
)


async def list_templates(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(template_overrides)
        .where(template_overrides.c.tenant_id == caller.tenant_id)
        .order_by(template_overrides.c.event_type, template_overrides.c.channel_kind)
    )
    return [dict(r._mapping) for r in rows]
