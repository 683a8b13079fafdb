"""Silence commands (maintenance windows). One function each; the caller's unit of work commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import Matcher, SilenceChanged
from intake.adapters import silences as repo
from intake.domain.silences import InvalidSilence, state, validate

__all__ = ["InvalidSilence", "create", "expire", "listed", "one"]


def _changed(row: Row[Any], *, expired: bool = False) -> SilenceChanged:
    return SilenceChanged(
        silence_id=row.id,
        matchers=[Matcher.model_validate(m) for m in row.matchers],
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        comment=row.comment,
        created_by=row.created_by,
        client_id=row.client_id,
        expired=expired,
    )


def _out(row: Row[Any], counts: dict[UUID, tuple[int, int]], now: datetime) -> dict[str, Any]:
    n, keys = counts.get(row.id, (0, 0))
    return {
        "id": row.id,
        "matchers": [Matcher.model_validate(m) for m in row.matchers],
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "comment": row.comment,
        "client_id": row.client_id,
        "created_by": row.created_by,
        "state": state(row.starts_at, row.ends_at, now),
        "silenced_alerts": n,
        "silenced_keys": keys,
    }


async def create(
    uow: UnitOfWork,
    caller: Principal,
    *,
    matchers: list[Matcher],
    starts_at: datetime | None,
    ends_at: datetime,
    comment: str,
    client_id: UUID | None,
) -> dict[str, Any]:
    """A silence from ``starts_at`` (default: now) to ``ends_at``."""
    now = uow.now
    starts_at = starts_at or now
    validate(matchers, starts_at, ends_at)
    row = await repo.add(
        uow.session,
        {
            "id": new_id(),
            "tenant_id": caller.tenant_id,
            "matchers": [m.model_dump() for m in matchers],
            "starts_at": starts_at,
            "ends_at": ends_at,
            "comment": comment,
            "client_id": client_id,
            "created_by": caller.user_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    uow.emit(_changed(row), tenant_id=caller.tenant_id, actor=caller.actor)
    return _out(row, {}, now)


async def listed(uow: UnitOfWork, caller: Principal, *, state: str | None) -> list[dict[str, Any]]:
    rows = await repo.of_tenant(uow.session, caller.tenant_id, state, uow.now)
    counts = await repo.silenced_counts(uow.session, [r.id for r in rows])
    return [_out(r, counts, uow.now) for r in rows]


async def one(uow: UnitOfWork, caller: Principal, silence_id: UUID) -> dict[str, Any]:
    row = await repo.get(uow.session, caller.tenant_id, silence_id)
    return _out(row, await repo.silenced_counts(uow.session, [row.id]), uow.now)


async def expire(uow: UnitOfWork, caller: Principal, silence_id: UUID) -> dict[str, Any]:
    """Ends the silence now; a pending one ends before it starts (starts_at moves to now too)."""
    now = uow.now
    row = await repo.get(uow.session, caller.tenant_id, silence_id, for_update=True)
    if row.ends_at > now:
        row = await repo.end(uow.session, silence_id, min(row.starts_at, now), now)
        uow.emit(_changed(row, expired=True), tenant_id=caller.tenant_id, actor=caller.actor)
    return _out(row, await repo.silenced_counts(uow.session, [row.id]), now)
