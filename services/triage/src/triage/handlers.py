"""Triage event handlers and queries. One function each; the caller's unit of work commits."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.enums import IncidentStatus
from contracts.envelope import Envelope
from contracts.events import AlertRepeated, ComponentRegistered, IncidentCreated, IncidentReported
from triage.adapters import components as component_replica
from triage.adapters import incidents as incident_queries
from triage.adapters.incidents import IncidentFilters
from triage.adapters.orm import incidents, reference_counters
from triage.domain.incident import Component, links, reference_code, with_component_facts
from triage.domain.severity import classify


async def _reserve_references(uow: UnitOfWork, tenant_id: UUID, count: int) -> list[str]:
    """``count`` consecutive per-tenant reference codes in one statement."""
    last = await uow.session.scalar(
        insert(reference_counters)
        .values(tenant_id=tenant_id, last_number=count)
        .on_conflict_do_update(
            index_elements=["tenant_id"], set_={"last_number": reference_counters.c.last_number + count}
        )
        .returning(reference_counters.c.last_number)
    )
    assert last is not None
    return [reference_code(n) for n in range(last - count + 1, last + 1)]


async def open_incidents(uow: UnitOfWork, reports: list[tuple[Envelope, IncidentReported]]) -> None:
    """Intake reported new incidents: record, classify and announce them (set-based: a storm
    of reports costs a few statements per batch, not several per incident). An incident on a
    known component takes the component's vendor (and its client when none was reported)."""
    ids = [event.incident_id for _, event in reports]
    existing = set((await uow.session.scalars(select(incidents.c.id).where(incidents.c.id.in_(ids)))).all())
    todo: list[tuple[Envelope, IncidentReported]] = []
    for envelope, event in reports:
        if envelope.tenantid is None:
            raise ValueError("intake.incident_reported.v1 without a tenant")
        if event.incident_id not in existing:  # the inbox keys on event id; this on the incident
            existing.add(event.incident_id)
            todo.append((envelope, event))
    if not todo:
        return
    known = await component_replica.by_id(
        uow.session, (event.component_id for _, event in todo if event.component_id)
    )
    by_tenant: dict[UUID, list[tuple[Envelope, IncidentReported]]] = defaultdict(list)
    for envelope, event in todo:
        by_tenant[envelope.tenantid].append((envelope, event))  # type: ignore[index]
    rows = []
    for tenant_id, items in by_tenant.items():
        codes = await _reserve_references(uow, tenant_id, len(items))
        for code, (envelope, event) in zip(codes, items, strict=True):
            component = known.get(event.component_id) if event.component_id else None
            linked = links(tenant_id, event.client_id, component)
            impact = with_component_facts(event.impact, tenant_id, component)
            classification = classify(impact)
            rows.append(
                {
                    "id": event.incident_id,
                    "tenant_id": tenant_id,
                    "reference_code": code,
                    "title": event.title,
                    "description": event.description,
                    "status": IncidentStatus.OPEN.value,
                    "severity": classification.severity.value,
                    "severity_flags": classification.flags,
                    "impact": impact.model_dump(mode="json"),
                    "source": event.source.value,
                    "dedup_key": event.dedup_key,
                    "client_id": linked.client_id,
                    "component_id": event.component_id,
                    "vendor_id": linked.vendor_id,
                    "labels": event.labels,
                    "detected_at": event.detected_at,
                }
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
                    client_id=linked.client_id,
                    component_id=event.component_id,
                    dedup_key=event.dedup_key,
                    detected_at=event.detected_at,
                ),
                tenant_id=tenant_id,
                caused_by=envelope,
            )
    await uow.session.execute(insert(incidents), rows)


async def count_alerts(uow: UnitOfWork, repeats: list[tuple[Envelope, AlertRepeated]]) -> None:
    """Alerts repeated on open incidents: keep the highest count seen (GREATEST: events may
    arrive out of order, and a count must never go down)."""
    highest: dict[UUID, int] = {}
    for _, event in repeats:
        highest[event.incident_id] = max(highest.get(event.incident_id, 0), event.alert_count)
    await uow.session.execute(
        update(incidents)
        .where(incidents.c.id == bindparam("incident_id"))
        .values(
            alert_count=func.greatest(incidents.c.alert_count, bindparam("count")), updated_at=func.now()
        ),
        [{"incident_id": k, "count": v} for k, v in highest.items()],
    )


async def replicate_components(uow: UnitOfWork, batch: list[tuple[Envelope, ComponentRegistered]]) -> None:
    """Keep triage's copy of directory's components (newest event per component wins) and link
    incidents that were opened on one before it was known here."""
    latest: dict[UUID, Component] = {}
    for _, event in batch:  # in partition order, so the last one is the newest
        latest[event.component_id] = Component(
            id=event.component_id,
            tenant_id=event.tenant_id,
            client_id=event.client_id,
            vendor_id=event.vendor_id,
            business_critical=event.business_critical,
        )
    rows = list(latest.values())
    await component_replica.upsert(uow.session, rows)
    await component_replica.link_open_incidents(uow.session, rows)


async def get_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any] | None:
    """The incident if the caller may see it: their tenant, and their client or vendor for a
    client or vendor contact; None otherwise (the API answers 404 either way)."""
    return await incident_queries.get(uow.session, caller, incident_id)


async def list_incidents(
    uow: UnitOfWork, caller: Principal, filters: IncidentFilters
) -> list[dict[str, Any]]:
    """One page of the incidents the caller may see, newest first."""
    return await incident_queries.search(uow.session, caller, filters)
