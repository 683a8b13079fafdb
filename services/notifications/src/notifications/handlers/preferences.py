"""Notification-preference commands and reads. The caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from contracts.events import (
    NotificationPreferencesChanged,
)
from notifications.adapters.orm import (
    preferences,
    recipients,
)


async def _known_user(uow: UnitOfWork, caller: Principal, user_id: UUID) -> None:
    known = await uow.session.scalar(
        select(recipients.c.user_id).where(
            recipients.c.user_id == user_id, recipients.c.tenant_id == caller.tenant_id
        )
    )
    if known is None:
        raise NotFound(f"no user {user_id}")


async def put_preferences(
    uow: UnitOfWork, caller: Principal, user_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    await _known_user(uow, caller, user_id)
    row = {
        "user_id": user_id,
        "tenant_id": caller.tenant_id,
        "muted_kinds": sorted({k.value for k in values["muted_kinds"]}),
        "muted_event_types": sorted(set(values["muted_event_types"])),
        "min_severity": values["min_severity"].value if values.get("min_severity") else None,
        "slack_handle": values.get("slack_handle"),
    }
    stmt = insert(preferences).values(row)
    saved = (
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id"],
                set_={k: stmt.excluded[k] for k in row if k not in ("user_id", "tenant_id")}
                | {"updated_at": func.now()},
                where=preferences.c.tenant_id == caller.tenant_id,
            ).returning(preferences)
        )
    ).one()
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
    return dict(saved._mapping)


async def get_preferences(uow: UnitOfWork, caller: Principal, user_id: UUID) -> dict[str, Any]:
    await _known_user(uow, caller, user_id)
    row = (
        await uow.session.execute(
            select(preferences).where(
                preferences.c.user_id == user_id, preferences.c.tenant_id == caller.tenant_id
            )
        )
    ).first()
    if row is not None:
        return dict(row._mapping)
    return {
        "user_id": user_id,
        "tenant_id": caller.tenant_id,
        "muted_kinds": [],
        "muted_event_types": [],
        "min_severity": None,
        "slack_handle": None,
        "updated_at": None,
    }
