"""The metrics summary: MTTA, MTTR and breach rate per tier, client, severity and month."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from sla.adapters import metric as store
from sla.adapters.orm import incidents
from sla.domain.metric import grouped, summary


async def summarize(
    session: AsyncSession,
    caller: Principal,
    *,
    since: datetime | None,
    until: datetime | None,
    client_id: UUID | None,
    tier: str | None,
    severity: str | None,
) -> dict[str, Any]:
    rows = await store.incident_rows(
        session,
        caller.tenant_id,
        since=since,
        until=until,
        client_id=client_id,
        tier=tier,
        severity=severity,
        scope=caller.scope(incidents.c.client_id, incidents.c.vendor_id),
    )
    return {
        "from": since,
        "to": until,
        "overall": summary(rows),
        "by_tier": grouped(rows, "tier"),
        "by_client": grouped(rows, "client_id"),
        "by_severity": grouped(rows, "severity"),
        "by_period": grouped(rows, "period"),
    }
