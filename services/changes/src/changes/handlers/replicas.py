"""The replicas the changes service keeps (docs/architecture.md "Conventions"): incidents
from every incident event, components from directory."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.uow import UnitOfWork
from changes.adapters import links
from contracts.envelope import Envelope
from contracts.events import ComponentRegistered, IncidentCreated, IncidentDeleted
from contracts.events.incident import IncidentEvent


async def replicate_incidents(uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEvent]]) -> None:
    """Every incident event carries the headline; the newest per incident wins."""
    rows: list[dict[str, Any]] = []
    detected: dict[tuple[UUID, UUID], Any] = {}
    for envelope, e in batch:
        if envelope.tenantid is None:
            continue  # incident events always carry a tenant; nothing to key a row on otherwise
        rows.append(
            {
                "id": e.incident_id,
                "tenant_id": envelope.tenantid,
                "status": e.status,
                "client_id": e.client_id,
                "vendor_id": e.vendor_id,
                "component_id": e.component_id,
                "deleted_at": e.deleted_at if isinstance(e, IncidentDeleted) else None,
            }
        )
        if isinstance(e, IncidentCreated):
            detected[(envelope.tenantid, e.incident_id)] = e.detected_at
    await links.upsert_incidents(uow.session, rows)
    await links.set_detected(uow.session, detected)


async def replicate_components(uow: UnitOfWork, batch: list[tuple[Envelope, ComponentRegistered]]) -> None:
    rows = [
        {
            "id": e.component_id,
            "tenant_id": e.tenant_id,
            "client_id": e.client_id,
            "vendor_id": e.vendor_id,
            "name": e.name[:200],
        }
        for _, e in batch
    ]
    await links.upsert_components(uow.session, rows)
