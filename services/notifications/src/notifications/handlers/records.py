"""What the channel and routing-rule commands share: the client check and the change event
each create or change announces (the record as shown, so secrets never leave in clear)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.envelope import EventData
from notifications.adapters import records as record_store


async def own_client(uow: UnitOfWork, caller: Principal, client_id: UUID | None) -> None:
    """A client id must be one of the caller's tenant's clients (as replicated from directory)."""
    if client_id is not None and not await record_store.client_known(
        uow.session, caller.tenant_id, client_id
    ):
        raise Unprocessable(f"client_id: no client {client_id}", field="client_id")


def announce(
    uow: UnitOfWork, caller: Principal, event: type[EventData], shown: Mapping[str, Any]
) -> dict[str, Any]:
    """``event`` (ChannelChanged, RoutingRuleChanged) from the record as shown: its id as the
    event's subject, and every field of the event the record has. Returns the record."""
    data = event.model_validate({**shown, event.subject_field: shown["id"]})
    uow.emit(data, tenant_id=caller.tenant_id, actor=caller.actor)
    return dict(shown)
