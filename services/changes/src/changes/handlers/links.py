"""Pre-checks every procedure shares: a linked incident, component or user must exist in the
caller's tenant (422 otherwise, naming the field); a record takes its client and vendor from
what it is linked to, so contacts' reads can be scoped; and one event per write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from changes.adapters import links
from contracts.enums import UserStatus
from contracts.envelope import new_id
from contracts.events.change import ChangeServiceEvent

NO_SCOPE: dict[str, Any] = {"client_id": None, "vendor_id": None}


async def incident(uow: UnitOfWork, caller: Principal, incident_id: UUID, field: str = "incident_id") -> Any:
    row = await links.incident(uow.session, caller.tenant_id, incident_id)
    if row is None:
        raise Unprocessable(f"{field}: no incident {incident_id}", field=field)
    return row


async def visible_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> Any:
    """An incident named in the path: 404 if unknown, deleted, or out of the caller's scope."""
    row = await links.incident(uow.session, caller.tenant_id, incident_id)
    if row is None or (
        caller.client_scoped and (caller.client_id is None or row.client_id != caller.client_id)
    ):
        raise NotFound(f"no incident {incident_id}")
    if caller.vendor_scoped and (caller.vendor_id is None or row.vendor_id != caller.vendor_id):
        raise NotFound(f"no incident {incident_id}")
    return row


async def component(uow: UnitOfWork, caller: Principal, component_id: UUID) -> Any:
    row = await links.component(uow.session, caller.tenant_id, component_id)
    if row is None:
        raise Unprocessable(f"component_id: no component {component_id}", field="component_id")
    return row


async def active_user(uow: UnitOfWork, caller: Principal, user_id: UUID, field: str) -> None:
    """Users named by id must exist in the tenant and be active (the acting user is the caller,
    checked when it signed in)."""
    row = await links.user(uow.session, caller.tenant_id, user_id)
    if row is None:
        raise Unprocessable(f"{field}: no user {user_id}", field=field)
    if row.status != UserStatus.ACTIVE:
        raise Unprocessable(f"{field}: user {user_id} is {row.status}", field=field)


async def scope_of_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID | None) -> dict[str, Any]:
    """The incident's client and vendor (nothing when there is no incident); 422 if unknown."""
    if incident_id is None:
        return dict(NO_SCOPE)
    row = await incident(uow, caller, incident_id)
    return {"client_id": row.client_id, "vendor_id": row.vendor_id}


def emit(
    uow: UnitOfWork, caller: Principal, kind: type[ChangeServiceEvent], row: dict[str, Any], **extra: Any
) -> None:
    """The event of one write: the record as it now is (fields the event does not name are left out)."""
    uow.emit(kind.model_validate({**row, **extra}), tenant_id=caller.tenant_id, actor=caller.actor)


def new_values(
    uow: UnitOfWork, caller: Principal, status: Any, by: str, *parts: Mapping[str, Any]
) -> dict[str, Any]:
    """A new record's row: ``parts`` (the request's fields, the scope it takes from what it is
    linked to) merged in order, then a new id in the caller's tenant, its first ``status``, the
    caller in column ``by`` (who requested, created, conducted...), created and updated now."""
    merged: dict[str, Any] = {}
    for part in parts:
        merged |= part
    return merged | {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "status": status,
        by: caller.user_id,
        "created_at": uow.now,
        "updated_at": uow.now,
    }
