"""The replicas notifications keeps of other services' data: recipients (users), clients and
incident headlines."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert

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
from notifications.adapters import incidents as incident_replica
from notifications.adapters.orm import clients, recipients

# --------------------------------------------------------------------------- incident replica

# Every incident event carries the headline, so each keeps the replica fresh.
INCIDENT_EVENT_TYPES = sorted(t for t, cls in known_event_types().items() if issubclass(cls, IncidentEvent))


async def replicate_incidents(uow: UnitOfWork, batch: list[tuple[Envelope, IncidentEvent]]) -> None:
    """Keep the headline of each incident (the batch is in partition order: the last wins)."""
    latest: dict[UUID, dict[str, Any]] = {}
    for envelope, e in batch:
        if envelope.tenantid is None:
            continue  # incident events always carry a tenant; nothing to key a row on otherwise
        latest[e.incident_id] = {
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
    await incident_replica.upsert(uow.session, latest.values())


async def replicate_recipients(
    uow: UnitOfWork, batch: list[tuple[Envelope, UserRegistered | UserUpdated]]
) -> None:
    """Keep addresses and roles of users (newest event per user wins)."""
    latest = {e.user_id: e for _, e in batch}
    stmt = insert(recipients).values(
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
            for e in latest.values()
        ]
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={c: stmt.excluded[c] for c in ("email", "name", "role", "status", "client_id", "vendor_id")},
        )
    )


async def replicate_clients(
    uow: UnitOfWork, batch: list[tuple[Envelope, ClientOnboarded | ClientUpdated]]
) -> None:
    latest = {e.client_id: e for _, e in batch}
    stmt = insert(clients).values(
        [{"id": e.client_id, "tenant_id": e.tenant_id, "name": e.client_name} for e in latest.values()]
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(index_elements=["id"], set_={"name": stmt.excluded.name})
    )
