"""Reads of users' notification preferences."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import preferences as preference_store


async def get_preferences(uow: UnitOfWork, caller: Principal, user_id: UUID) -> dict[str, Any]:
    """The user's preferences; a user without a row gets everything the rules send."""
    await preference_store.user(uow.session, caller.tenant_id, user_id)
    saved = await preference_store.of_user(uow.session, caller.tenant_id, user_id)
    return saved or {
        "user_id": user_id,
        "tenant_id": caller.tenant_id,
        "muted_kinds": [],
        "muted_event_types": [],
        "min_severity": None,
        "slack_handle": None,
        "updated_at": None,
    }
