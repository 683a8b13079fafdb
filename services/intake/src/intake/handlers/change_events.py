"""Change events (PagerDuty's ``/v2/change/enqueue``): announced for the changes service to
record; the caller's unit of work commits."""

from __future__ import annotations

from uuid import UUID

from backbone.uow import UnitOfWork
from contracts.envelope import new_id
from intake.domain import change_events
from intake.domain.integrations import Integration


async def receive_change(uow: UnitOfWork, integration: Integration, event: change_events.ChangeEvent) -> UUID:
    """Announce the change (intake.change_received.v1, through the outbox); its id."""
    change_id = new_id()
    uow.emit(change_events.received(event, integration, change_id, uow.now), tenant_id=integration.tenant_id)
    return change_id
