"""Silence commands (maintenance windows). One function each; the caller's unit of work commits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select, update

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from contracts.events import Matcher, SilenceChanged
from intake.adapters import silences as repo
from intake.adapters.orm import silences
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
    starts_at: datetime,
    ends_at: datetime,
    comment: str,
    client_id: UUID | None,
) -> dict[str, Any]:
    validate(matchers, starts_at, ends_at)
    now = datetime.now(UTC)
    row = (
        await uow.session.execute(
            silences.insert()
            .values(
                id=new_id(),
                tenant_id=caller.tenant_id,
                matchers=[m.model_dump() for m in matchers],
                starts_at=starts_at,
                ends_at=ends_at,
                comment=comment,
                client_id=client_id,
                created_by=caller.user_id,
                created_at=now,
                updated_at=now,
            )
            .returning(*silences.c)
        )
    ).one()
    uow.emit(_changed(row), tenant_id=caller.tenant_id, actor=caller.actor)
    return _out(row, {}, now)


async def listed(uow: UnitOfWork, caller: Principal, *, state: str | None) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    query = select(silences).where(silences.c.tenant_id == caller.tenant_id)
    if state == "pending":
        query = query.where(silences.c.starts_at > now)
    elif state == "active":
        query = query.where(silences.c.starts_at <= now, silences.c.ends_at > now)
    elif state == "expired":
        query = query.where(silences.c.ends_at <= now)
    rows = (await uow.session.execute(query.order_by(silences.c.created_at.desc()).limit(1000))).all()
    counts = await repo.silenced_counts(uow.session, [r.id for r in rows])
    return [_out(r, counts, now) for r in rows]


async def one(uow: UnitOfWork, caller: Principal, silence_id: UUID) -> dict[str, Any] | None:
    row = (
        await uow.session.execute(
            select(silences).where(silences.c.tenant_id == caller.tenant_id, silences.c.id == silence_id)
        )
    ).first()
    if row is None:
        return None
    return _out(row, await repo.silenced_counts(uow.session, [row.id]), datetime.now(UTC))


async def expire(uow: UnitOfWork, caller: Principal, silence_id: UUID) -> dict[str, Any] | None:
    """Ends the silence now; a pending one ends before it starts (starts_at moves to now too)."""
    now = datetime.now(UTC)
    row = (
        await uow.session.execute(
            select(silences)
            .where(silences.c.tenant_id == caller.tenant_id, silences.c.id == silence_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        return None
    if row.ends_at > now:
        row = (
            await uow.session.execute(
                update(silences)
                .where(silences.c.id == silence_id)
                .values(ends_at=now, starts_at=min(row.starts_at, now), updated_at=now)
                .returning(*silences.c)
            )
        ).one()
        uow.emit(_changed(row, expired=True), tenant_id=caller.tenant_id, actor=caller.actor)
    return _out(row, await repo.silenced_counts(uow.session, [row.id]), now)
