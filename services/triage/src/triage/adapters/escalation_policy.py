"""SQL of escalation policies (table in adapters/orm.py)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from backbone.rows import get_or_404
from triage.adapters.orm import escalation_policies


def _scope(caller: Principal) -> tuple[ColumnElement[bool], ...]:
    # A client contact sees its own client's policies only (not the tenant default, which
    # names staff); other roles with incidents.view see all of the tenant's.
    return tuple(caller.scope(escalation_policies.c.client_id, None))


async def get(
    session: AsyncSession, caller: Principal, policy_id: UUID, *, lock: bool = False
) -> dict[str, Any]:
    """The policy if the caller may see it (locked when ``lock``); NotFound otherwise."""
    row = await get_or_404(
        session,
        escalation_policies,
        policy_id,
        caller.tenant_id,
        what="escalation policy",
        among=_scope(caller),
        for_update=lock,
    )
    return dict(row._mapping)


async def of_caller(session: AsyncSession, caller: Principal) -> list[dict[str, Any]]:
    """The policies the caller may see, by name."""
    rows = await session.execute(
        select(escalation_policies)
        .where(escalation_policies.c.tenant_id == caller.tenant_id, *_scope(caller))
        .order_by(escalation_policies.c.name)
    )
    return [dict(r) for r in rows.mappings()]


async def insert_one(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any]:
    row = (
        await session.execute(insert(escalation_policies).values(values).returning(escalation_policies))
    ).one()
    return dict(row._mapping)


async def update_one(
    session: AsyncSession, tenant_id: UUID, policy_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    row = (
        await session.execute(
            update(escalation_policies)
            .where(escalation_policies.c.id == policy_id, escalation_policies.c.tenant_id == tenant_id)
            .values(**values, updated_at=func.now())
            .returning(escalation_policies)
        )
    ).one()
    return dict(row._mapping)


async def delete_one(session: AsyncSession, policy_id: UUID) -> None:
    await session.execute(delete(escalation_policies).where(escalation_policies.c.id == policy_id))
