"""SQL for policies (docs/sla.md "Policies"): a tenant's 12 rows, seeded from the source table
on first use. The seed is INSERT ... ON CONFLICT DO NOTHING, so replicas racing to seed the
same tenant write each row once and never overwrite an edit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import Severity, SubscriptionTier
from sla.adapters.orm import policies
from sla.domain.policy import FIGURES, SEEDED, Policy


def _policy(row: Any) -> Policy:
    return Policy(
        SubscriptionTier(row.tier),
        Severity(row.severity),
        row.calendar,
        *(getattr(row, name) for name in FIGURES),
    )


def _values(tenant_id: UUID, policy: Policy) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "tier": policy.tier.value,
        "severity": policy.severity.value,
        "calendar": policy.calendar,
        **{name: getattr(policy, name) for name in FIGURES},
    }


async def _seed(session: AsyncSession, tenant_id: UUID) -> None:
    await session.execute(
        insert(policies).values([_values(tenant_id, p) for p in SEEDED]).on_conflict_do_nothing()
    )


async def get(session: AsyncSession, tenant_id: UUID, tier: SubscriptionTier, severity: Severity) -> Policy:
    """The tenant's policy for ``tier`` and ``severity`` (seeding the tenant's rows if need be)."""
    query = select(policies).where(
        policies.c.tenant_id == tenant_id,
        policies.c.tier == SubscriptionTier(tier).value,
        policies.c.severity == Severity(severity).value,
    )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        await _seed(session, tenant_id)
        row = (await session.execute(query)).one()
    return _policy(row)


async def all(session: AsyncSession, tenant_id: UUID) -> list[Policy]:
    """The tenant's 12 policies, premium first, then by severity; rows not written yet read as
    seeded (a read writes nothing)."""
    rows = (await session.execute(select(policies).where(policies.c.tenant_id == tenant_id))).all()
    found = {(p.tier, p.severity): p for p in map(_policy, rows)}
    return [found.get((p.tier, p.severity), p) for p in SEEDED]


async def put(session: AsyncSession, tenant_id: UUID, policy: Policy, *, by: UUID, at: datetime) -> None:
    """Write one policy (the tenant's other rows are seeded first, so none is lost to the seed)."""
    await _seed(session, tenant_id)
    values = _values(tenant_id, policy)
    changed = {k: v for k, v in values.items() if k not in ("tenant_id", "tier", "severity")}
    await session.execute(
        insert(policies)
        .values(**values, updated_at=at, updated_by=by)
        .on_conflict_do_update(
            index_elements=[policies.c.tenant_id, policies.c.tier, policies.c.severity],
            set_={**changed, "updated_at": at, "updated_by": by},
        )
    )
