"""Read model of policies: the tenant's 12 rows in the API shape (docs/sla.md "Policies")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sla.adapters import policy as policies
from sla.domain.policy import Policy, figures


def shape(policy: Policy) -> dict[str, Any]:
    return {"tier": policy.tier, "severity": policy.severity, "calendar": policy.calendar, **figures(policy)}


async def list_policies(session: AsyncSession, tenant_id: UUID) -> list[dict[str, Any]]:
    return [shape(p) for p in await policies.all(session, tenant_id)]
