"""A person changes an incident: status moves through the tenant's catalog, field edits, soft
delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Conflict, Unprocessable
from backbone.uow import UnitOfWork
from contracts.events import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentDeleted,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentUpdated,
)
from contracts.events.intake import ImpactFacts
from triage.adapters import catalogs
from triage.domain.lifecycle import ACKNOWLEDGED, CLOSED, RESOLVED, Catalog, TransitionRefused
from triage.handlers.edits import (
    RECORDED,
    Edit,
    Who,
    _emit,
    _emit_triaged,
    _locked,
    _now,
    _reclassify,
    _save,
)


async def _move(
    uow: UnitOfWork,
    row: dict[str, Any],
    target: str,
    who: Who,
    catalog: Catalog,
    *,
    at: datetime | None = None,
    note: str | None = None,
    resolution: str | None = None,
    check: bool = True,
    edit: Edit | None = None,
) -> dict[str, Any]:
    """Move the incident to ``target`` (checked against the catalog unless ``check`` is off),
    stamp what the move means, write the update records and announce it. A person moving it
    out of the default status acknowledges it (the first response) if nobody had."""
    current = row["status"]
    known = catalog.by_slug.get(target)
    if known is None or not known.is_active:
        active = ", ".join(s.slug for s in catalog.by_slug.values() if s.is_active)
        raise Unprocessable(
            f"status: {target!r} is not a status of this tenant (one of: {active})", field="status"
        )
    if check:
        try:
            catalog.check(current, target)
        except TransitionRefused as exc:
            raise Conflict(str(exc), field="status", allowed=catalog.allowed_from(current)) from exc
    when = at or _now()
    edit = edit or Edit(row)
    edit.set("status", target)
    reopened = catalog.is_reopen(current, target)
    acknowledged = row["acknowledged_at"] is None and (
        target == ACKNOWLEDGED or (who.via == "user" and current == catalog.default.slug and not reopened)
    )
    if acknowledged:
        edit.set("acknowledged_at", when)
        edit.set("acknowledged_by", who.user_id)
    if target == RESOLVED:
        edit.set("resolved_at", when)
        edit.set("resolved_by", who.user_id)
        if resolution is not None:
            edit.set("resolution", resolution)
    if target == CLOSED or known.is_terminal:
        edit.set("closed_at", when)
        edit.set("closed_by", who.user_id)
    if reopened:
        for name in ("resolved_at", "resolved_by", "closed_at", "closed_by"):
            edit.set(name, None)
    changes = await _save(uow, edit, who, note)
    after = edit.after
    rest = {k: v for k, v in changes.items() if k not in ("status", "resolution") and k in RECORDED}
    if rest:
        _emit(uow, after, IncidentUpdated, who, changes=rest)
    _emit_triaged(uow, edit, changes, who)
    _emit(uow, after, IncidentStatusChanged, who, from_status=current, to_status=target, note=note)
    via = "alert" if who.via == "alert" else "user"
    if acknowledged:
        _emit(
            uow, after, IncidentAcknowledged, who, acknowledged_at=when, acknowledged_by=who.user_id, via=via
        )
    if target == RESOLVED:
        _emit(
            uow,
            after,
            IncidentResolved,
            who,
            resolved_at=when,
            resolved_by=who.user_id,
            via=via,
            resolution=after["resolution"],
            dedup_key=after["dedup_key"],
        )
    if after["closed_at"] is not None and row["closed_at"] is None:
        _emit(
            uow,
            after,
            IncidentClosed,
            who,
            closed_at=when,
            closed_by=who.user_id,
            dedup_key=after["dedup_key"],
        )
    if reopened:
        _emit(uow, after, IncidentReopened, who, reopened_at=when, reopened_by=who.user_id, reason=note)
    return after


async def transition(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    target: str,
    *,
    note: str | None = None,
    resolution: str | None = None,
) -> dict[str, Any]:
    """A person moves the incident (acknowledge, resolve, close, reopen, or any catalog move)."""
    row = await _locked(uow, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, row["tenant_id"])
    return await _move(uow, row, target, Who.person(caller), catalog, note=note, resolution=resolution)


async def reopen(uow: UnitOfWork, caller: Principal, incident_id: UUID, reason: str) -> dict[str, Any]:
    row = await _locked(uow, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, row["tenant_id"])
    target = catalog.default.slug
    if not catalog.is_reopen(row["status"], target):
        raise Conflict(f"status: only a resolved or closed incident can be reopened (it is {row['status']})")
    return await _move(uow, row, target, Who.person(caller), catalog, note=reason)


EDITABLE = ("title", "description", "category", "priority", "metadata")


async def patch_incident(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any], note: str | None = None
) -> dict[str, Any]:
    """Change fields of the incident (001 "Updating Incident Status"): ``values`` holds only the
    fields sent. ``impact`` merges into the facts and re-evaluates severity; ``status`` moves
    through the catalog's transition rules. Nothing sent that differs: nothing written."""
    row = await _locked(uow, caller, incident_id)
    tenant_id = row["tenant_id"]
    edit = Edit(row)
    category, priority = values.get("category"), values.get("priority")
    if category is not None and category not in await catalogs.active_slugs(
        uow.session, "categories", tenant_id
    ):
        raise Unprocessable(f"category: {category!r} is not an active category", field="category")
    if "priority" in values and (
        priority is None or priority not in await catalogs.active_slugs(uow.session, "priorities", tenant_id)
    ):
        raise Unprocessable(f"priority: {priority!r} is not an active priority", field="priority")
    for name in EDITABLE:
        if name in values:
            edit.set(name, values[name])
    if "impact" in values:
        merged = {**(row["impact"] or {}), **values["impact"]}
        edit.set("impact", ImpactFacts.model_validate(merged).model_dump(mode="json"))
        _reclassify(edit)
    who = Who.person(caller)
    target = values.get("status")
    if target is not None and target != row["status"]:
        catalog = await catalogs.status_catalog(uow.session, tenant_id)
        return await _move(uow, row, target, who, catalog, note=note, edit=edit)
    if target is not None and target == row["status"] and not edit.changed():
        return row
    changes = await _save(uow, edit, who, note)
    rest = {k: v for k, v in changes.items() if k in RECORDED}
    if rest:
        _emit(uow, edit.after, IncidentUpdated, who, changes=rest)
    _emit_triaged(uow, edit, changes, who)
    return edit.after


async def delete_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> None:
    """Soft delete: the record stays for the audit trail; queries no longer show it."""
    row = await _locked(uow, caller, incident_id)
    edit = Edit(row)
    now = _now()
    edit.set("deleted_at", now)
    edit.set("deleted_by", caller.user_id)
    who = Who.person(caller)
    await _save(uow, edit, who)
    _emit(uow, edit.after, IncidentDeleted, who, deleted_at=now, deleted_by=caller.user_id)
