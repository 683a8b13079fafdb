"""Notification-preference commands. The caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.events import NotificationPreferencesChanged
from notifications.adapters import preferences as preference_store


async def put_preferences(
    uow: UnitOfWork, caller: Principal, user_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    await preference_store.user(uow.session, caller.tenant_id, user_id)
    row = {
        "user_id": user_id,
        "tenant_id": caller.tenant_id,
        "muted_kinds": sorted({k.value for k in values["muted_kinds"]}),
        "muted_event_types": sorted(set(values["muted_event_types"])),
        "min_severity": values["min_severity"].value if values.get("min_severity") else None,
        "slack_handle": values.get("slack_handle"),
    }
    saved = await preference_store.save(uow.session, row)
    uow.emit(
        NotificationPreferencesChanged(
            user_id=user_id,
            muted_kinds=row["muted_kinds"],
            muted_event_types=row["muted_event_types"],
            min_severity=row["min_severity"],
            slack_handle=row["slack_handle"],
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return saved
