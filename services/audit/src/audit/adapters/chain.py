"""The SQL of the hash chains: each tenant's head (the last entry's seq and hash) and the log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from audit.adapters.orm import audit_log, chain_heads


async def lock_head(session: AsyncSession, tenant_id: UUID, genesis: str) -> str:
    """The hash the tenant's next entry chains from, its head created at ``genesis`` if missing,
    then locked: appends to one chain are serialized across batches and replicas, and two first
    events can never both start from genesis."""
    await session.execute(
        pg_insert(chain_heads)
        .values(tenant_id=tenant_id, seq=0, hash=genesis)
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    return (
        await session.execute(
            select(chain_heads.c.hash).where(chain_heads.c.tenant_id == tenant_id).with_for_update()
        )
    ).scalar_one()


async def append(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert the entries; their seqs, in the order given."""
    return list(
        (
            await session.scalars(
                insert(audit_log).returning(audit_log.c.seq, sort_by_parameter_order=True), rows
            )
        ).all()
    )


async def move_head(session: AsyncSession, tenant_id: UUID, seq: int, hash_: str) -> None:
    await session.execute(
        update(chain_heads).where(chain_heads.c.tenant_id == tenant_id).values(seq=seq, hash=hash_)
    )
