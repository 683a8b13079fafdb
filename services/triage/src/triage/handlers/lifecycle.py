"""A person changes an incident: status moves through the tenant's catalog, field edits, soft
delete. The rules are the incident aggregate's (triage.domain.lifecycle)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import catalog as catalogs
from triage.adapters import incident as store
from triage.domain import incident, lifecycle
from triage.domain.incident import Incident
from triage.handlers.incident import apply, person


async def transition(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    target: str,
    *,
    note: str | None = None,
    resolution: str | None = None,
) -> Incident:
    """A person moves the incident (acknowledge, resolve, close, reopen, or any catalog move)."""
    found = await store.lock(uow.session, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, found.tenant_id)
    who = person(caller)
    outcome = lifecycle.move(found, target, who, catalog, now=uow.now, note=note, resolution=resolution)
    return await apply(uow, outcome, who)


async def reopen(uow: UnitOfWork, caller: Principal, incident_id: UUID, reason: str) -> Incident:
    found = await store.lock(uow.session, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, found.tenant_id)
    who = person(caller)
    return await apply(uow, lifecycle.reopen(found, who, catalog, reason=reason, now=uow.now), who)


async def patch_incident(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any], note: str | None = None
) -> Incident:
    """Change fields of the incident (001 "Updating Incident Status"): ``values`` holds only the
    fields sent. The tenant's catalogs are read only for what was sent."""
    found = await store.lock(uow.session, caller, incident_id)
    tenant_id = found.tenant_id
    categories = (
        await catalogs.active_slugs(uow.session, "categories", tenant_id)
        if values.get("category") is not None
        else {}
    )
    priorities = (
        await catalogs.active_slugs(uow.session, "priorities", tenant_id) if "priority" in values else {}
    )
    target = values.get("status")
    catalog = (
        await catalogs.status_catalog(uow.session, tenant_id)
        if target is not None and target != found.status
        else None
    )
    who = person(caller)
    outcome = lifecycle.patch(
        found,
        values,
        who,
        now=uow.now,
        note=note,
        categories=categories.keys(),
        priorities=priorities.keys(),
        catalog=catalog,
    )
    return await apply(uow, outcome, who)


async def delete_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> None:
    """Soft delete: the record stays for the audit trail; queries no longer show it."""
    found = await store.lock(uow.session, caller, incident_id)
    who = person(caller)
    await apply(uow, incident.mark_deleted(found, who, uow.now), who)
