"""Triage event handlers and queries. One function each; the caller's unit of work commits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.uow import UnitOfWork
from contracts.enums import IncidentStatus
from contracts.envelope import Envelope
from contracts.events import AlertRepeated, IncidentCreated, IncidentReported
from triage.adapters.orm import incidents, reference_counters
from triage.domain.incident import reference_code
from triage.domain.severity import classify


async def _next_reference(uow: UnitOfWork, tenant_id: UUID) -> str:
    number = await uow.session.scalar(
        insert(reference_counters)
        .values(tenant_id=tenant_id, last_number=1)
        .on_conflict_do_update(
            index_elements=["tenant_id"], set_={"last_number": reference_counters.c.last_number + 1}
        )
        .returning(reference_counters.c.last_number)
    )
    assert number is not None
    return reference_code(number)


async def open_incident(uow: UnitOfWork, envelope: Envelope, event: IncidentReported) -> None:
    """Intake reported a new incident: record it, classify it, announce it."""
    tenant_id = envelope.tenantid
    if tenant_id is None:
        raise ValueError("intake.incident_reported.v1 without a tenant")
    exists = await uow.session.scalar(select(incidents.c.id).where(incidents.c.id == event.incident_id))
    if exists is not None:
        return  # already opened (the inbox keys on event id; this keys on the incident)
    classification = classify(event.impact)
    code = await _next_reference(uow, tenant_id)
    await uow.session.execute(
        insert(incidents).values(
            id=event.incident_id,
            tenant_id=tenant_id,
            reference_code=code,
            title=event.title,
            description=event.description,
            status=IncidentStatus.OPEN.value,
            severity=classification.severity.value,
            severity_flags=classification.flags,
            impact=event.impact.model_dump(mode="json"),
            source=event.source.value,
            dedup_key=event.dedup_key,
            client_id=event.client_id,
            component_id=event.component_id,
            labels=event.labels,
            detected_at=event.detected_at,
        )
    )
    uow.emit(
        IncidentCreated(
            incident_id=event.incident_id,
            reference_code=code,
            title=event.title,
            status=IncidentStatus.OPEN,
            severity=classification.severity,
            severity_flags=classification.flags,
            source=event.source,
            client_id=event.client_id,
            component_id=event.component_id,
            dedup_key=event.dedup_key,
            detected_at=event.detected_at,
        ),
        tenant_id=tenant_id,
        caused_by=envelope,
    )


async def count_alert(uow: UnitOfWork, envelope: Envelope, event: AlertRepeated) -> None:
    # GREATEST: a count must never go down if events arrive out of order.
    await uow.session.execute(
        update(incidents)
        .where(incidents.c.id == event.incident_id)
        .values(alert_count=func.greatest(incidents.c.alert_count, event.alert_count), updated_at=func.now())
    )


async def get_incident(uow: UnitOfWork, incident_id: UUID) -> dict[str, Any] | None:
    row = (
        (
            await uow.session.execute(
                select(incidents).where(incidents.c.id == incident_id, incidents.c.deleted_at.is_(None))
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def list_incidents(uow: UnitOfWork, *, tenant_id: UUID | None, limit: int) -> list[dict[str, Any]]:
    query = select(incidents).where(incidents.c.deleted_at.is_(None))
    if tenant_id is not None:
        query = query.where(incidents.c.tenant_id == tenant_id)
    rows = (await uow.session.execute(query.order_by(incidents.c.created_at.desc()).limit(limit))).mappings()
    return [dict(r) for r in rows]
