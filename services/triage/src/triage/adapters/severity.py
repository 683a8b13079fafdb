"""SQL of severity by hand: the history of manual escalations (004 ``incident_escalations``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from triage.adapters.incident import rows_of
from triage.adapters.orm import incident_escalations
from triage.domain.severity import ManualEscalation


async def record_escalation(session: AsyncSession, escalation: ManualEscalation) -> None:
    await session.execute(insert(incident_escalations).values(asdict(escalation)))


async def escalations(session: AsyncSession, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's manual escalations, oldest first."""
    return await rows_of(session, incident_escalations, incident_id, "escalated_at", "id")
