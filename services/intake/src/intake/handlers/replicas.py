"""The replicas intake keeps of directory's data: tenants (for requests naming one by slug), and
the clients and components a manual report's pre-checks read. Batched: a run of events is one
statement per table."""

from __future__ import annotations

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    TenantCreated,
)
from intake.adapters import replicas as repo


async def replicate_tenants(uow: UnitOfWork, batch: list[tuple[Envelope, TenantCreated]]) -> None:
    await repo.upsert_tenants(
        uow.session, ({"id": e.tenant_id, "slug": e.slug, "name": e.name} for _, e in batch)
    )


async def replicate_clients(
    uow: UnitOfWork, batch: list[tuple[Envelope, ClientOnboarded | ClientUpdated]]
) -> None:
    await repo.upsert_clients(
        uow.session,
        ({"id": e.client_id, "tenant_id": e.tenant_id, "status": e.status.value} for _, e in batch),
    )


async def replicate_components(uow: UnitOfWork, batch: list[tuple[Envelope, ComponentRegistered]]) -> None:
    rows = (
        {"id": e.component_id, "tenant_id": e.tenant_id, "client_id": e.client_id, "vendor_id": e.vendor_id}
        for _, e in batch
    )
    await repo.upsert_components(uow.session, rows)
