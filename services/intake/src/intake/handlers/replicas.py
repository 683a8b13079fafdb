"""The replicas intake keeps of directory's data: tenants (for requests naming one by slug), and
the clients and components a manual report's pre-checks read."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    TenantCreated,
)
from intake.adapters import reports as reports_repo
from intake.adapters.orm import tenants


async def record_tenant(uow: UnitOfWork, envelope: Envelope, event: TenantCreated) -> None:
    await uow.session.execute(
        pg_insert(tenants)
        .values(id=event.tenant_id, slug=event.slug, name=event.name)
        .on_conflict_do_update(index_elements=["id"], set_={"slug": event.slug, "name": event.name})
    )


async def record_clients(
    uow: UnitOfWork, batch: list[tuple[Envelope, ClientOnboarded | ClientUpdated]]
) -> None:
    await reports_repo.upsert_clients(uow.session, [event for _, event in batch])


async def record_components(uow: UnitOfWork, batch: list[tuple[Envelope, ComponentRegistered]]) -> None:
    await reports_repo.upsert_components(uow.session, [event for _, event in batch])
