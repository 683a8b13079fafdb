"""A person changes an incident: status moves through the tenant's catalog, field edits, soft
delete. The rules are the incident aggregate's (triage.domain.lifecycle)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

import structlog

from backbone.auth import Principal, replica_lookup
from backbone.problems import Problem
from backbone.uow import UnitOfWork
from contracts.enums import Role, UserStatus
from contracts.envelope import Envelope
from contracts.events import IncidentActionRequested
from contracts.permissions import Permission
from triage.adapters import catalog as catalogs
from triage.adapters import incident as store
from triage.domain import incident, lifecycle
from triage.domain.incident import Incident
from triage.handlers.incident import apply, person

log = structlog.get_logger(__name__)

# What a person may ask for from outside the API (a Slack button), and the status it moves to.
REQUESTED_MOVES = {"acknowledge": lifecycle.ACKNOWLEDGED, "resolve": lifecycle.RESOLVED}


async def transition(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    target: str,
    *,
    note: str | None = None,
    resolution: str | None = None,
    caused_by: Envelope | None = None,
) -> Incident:
    """A person moves the incident (acknowledge, resolve, close, reopen, or any catalog move)."""
    found = await store.lock(uow.session, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, found.tenant_id)
    who = replace(person(caller), caused_by=caused_by)
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


async def _requester(
    uow: UnitOfWork, envelope: Envelope, request: IncidentActionRequested
) -> Principal | None:
    """The person who asked, as this service knows them now (its replica of users): None unless
    they are an active user of the request's tenant whose role grants ``incidents.update``."""
    row = await replica_lookup(uow.session, request.user_id)
    if row is None or row.tenant_id != envelope.tenantid or row.status != UserStatus.ACTIVE.value:
        return None
    caller = Principal(request.user_id, row.tenant_id, Role(row.role), row.client_id, row.vendor_id)
    return caller if caller.can(Permission.INCIDENTS_UPDATE) else None


async def act_on_requests(uow: UnitOfWork, batch: list[tuple[Envelope, IncidentActionRequested]]) -> None:
    """A person asked from Slack to acknowledge or resolve an incident: applied with their own
    permissions, exactly as if they had called the API (a contact only within their client or
    vendor). A request they may not make, or a move the incident's status does not allow now,
    changes nothing (logged); the events of one that is applied name the request as their cause."""
    for envelope, request in batch:
        caller = await _requester(uow, envelope, request)
        if caller is None:
            log.info("incident action refused: the user may not update incidents", request=str(envelope.id))
            continue
        try:
            await transition(
                uow, caller, request.incident_id, REQUESTED_MOVES[request.action], caused_by=envelope
            )
        except Problem as exc:  # raised before anything is written: nothing to undo
            log.info("incident action not applied", request=str(envelope.id), reason=exc.detail)
