"""The replicas of other services' data, against the real database."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import select

from backbone.uow import UnitOfWork
from notifications.adapters.incidents import incidents
from notifications.handlers.replicas import replicate_incidents

from .support import incident_event


async def test_the_newest_headline_wins_and_another_tenant_never_takes_an_incident_over(
    uow: UnitOfWork,
) -> None:
    tenant = uuid4()
    incident_id = uuid4()
    batch = [
        incident_event(tenant, incident_id, title="first"),
        incident_event(tenant, incident_id, title="second", status="acknowledged"),
    ]
    await replicate_incidents(uow, batch)
    await replicate_incidents(uow, [incident_event(uuid4(), incident_id, title="hijacked")])
    row = (await uow.session.execute(select(incidents).where(incidents.c.id == incident_id))).one()
    assert (row.tenant_id, row.title, row.status) == (tenant, "second", "acknowledged")
