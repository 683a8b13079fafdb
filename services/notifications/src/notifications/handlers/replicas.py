"""The replicas notifications keeps of other services' data: recipients (users), clients and
incident headlines."""

from __future__ import annotations

from typing import Any

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope, known_event_types
from contracts.events import (
    ClientOnboarded,
    ClientUpdated,
    IncidentDeleted,
    UserRegistered,
    UserUpdated,
)
from contracts.events.incident import IncidentEvent
from notifications.adapters import replicas

# --------------------------------------------------------------------------- incident replica

# Every incident event carries the headline, so each keeps the replica fresh.
INCIDENT_EVENT_TYPES = sorted(t for t, cls in known_event_types().items() if issubclass(cls, IncidentEvent))


async def replicate_incidents(uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEvent]]) -> None:
    """Keep the headline of each incident (the batch is in partition order: the last wins)."""
    rows: list[dict[str, Any]] = []
    for envelope, e in batch:
        if envelope.tenantid is None:
            continue  # incident events always carry a tenant; nothing to key a row on otherwise
        rows.append(
            {
                "id": e.incident_id,
                "tenant_id": envelope.tenantid,
                "reference_code": e.reference_code,
                "title": e.title[:300],
                "severity": e.severity.value,
                "status": e.status,
                "client_id": e.client_id,
                "vendor_id": e.vendor_id,
                "deleted_at": e.deleted_at if isinstance(e, IncidentDeleted) else None,
            }
        )
    await replicas.upsert_incidents(uow.session, rows)


async def replicate_recipients(
    uow: UnitOfWork, batch: list[tuple[Envelope, UserRegistered | UserUpdated]]
) -> None:
    """Keep addresses and roles of users (newest event per user wins)."""
    await replicas.upsert_recipients(
        uow.session,
        [
            {
                "user_id": e.user_id,
                "tenant_id": e.tenant_id,
                "email": e.email,
                "name": e.name,
                "role": e.role.value,
                "status": e.status.value,
                "client_id": e.client_id,
                "vendor_id": e.vendor_id,
            }
            for _, e in batch
        ],
    )


async def replicate_clients(
    uow: UnitOfWork, batch: list[tuple[Envelope, ClientOnboarded | ClientUpdated]]
) -> None:
    """Keep client names (newest event per client wins)."""
    await replicas.upsert_clients(
        uow.session, [{"id": e.client_id, "tenant_id": e.tenant_id, "name": e.client_name} for _, e in batch]
    )
