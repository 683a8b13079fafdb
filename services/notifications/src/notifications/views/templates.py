"""Reads of template overrides."""

from __future__ import annotations

from typing import Any

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import templates as template_store


async def list_templates(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    return await template_store.overrides_of(uow.session, caller.tenant_id)
