"""Who works an incident: assignees, CC watchers and delegation, with their history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Conflict, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import AssignmentKind, UserStatus
from contracts.envelope import new_id
from contracts.events import (
    IncidentAssigned,
    IncidentDelegated,
    IncidentUnassigned,
)
from triage.adapters import assignment as store
from triage.adapters import incident as incidents
from triage.domain.incident import OWNER_KINDS, Incident, Record
from triage.handlers.incident import announce, person


async def check_active_user(uow: UnitOfWork, tenant_id: UUID, user_id: UUID) -> None:
    """The user must be an active user of the tenant (as this service's replica knows them)."""
    found = await store.user(uow.session, user_id)
    if found is None or found[0] != tenant_id:
        raise Unprocessable(f"user_id: no user {user_id} in this tenant", field="user_id")
    if found[1] != UserStatus.ACTIVE.value:
        raise Unprocessable(f"user_id: the user is {found[1]}", field="user_id")


async def _end_assignments(uow: UnitOfWork, ending: list[dict[str, Any]]) -> datetime:
    """End these assignments; when they ended."""
    await store.end(uow.session, [a["id"] for a in ending], uow.now)
    return uow.now


async def _add(
    uow: UnitOfWork,
    incident: Incident,
    caller: Principal,
    user_id: UUID,
    kind: AssignmentKind,
    note: str | None,
    delegated_from: UUID | None = None,
) -> dict[str, Any]:
    """A new assignment in force from now; the row written."""
    assignment = {
        "id": new_id(),
        "tenant_id": incident.tenant_id,
        "incident_id": incident.id,
        "user_id": user_id,
        "kind": kind.value,
        "assigned_by": caller.user_id,
        "note": note,
        "assigned_at": uow.now,
        "is_active": True,
    }
    if delegated_from is not None:
        assignment["delegated_from"] = delegated_from
    await store.insert_one(uow.session, assignment)
    return assignment


def _holders(active: list[dict[str, Any]], kinds: Sequence[str]) -> list[str]:
    return sorted(str(a["user_id"]) for a in active if a["kind"] in kinds)


async def assign(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    user_id: UUID,
    kind: AssignmentKind,
    note: str | None,
) -> dict[str, Any]:
    """Add an assignee (several may work an incident) or a CC watcher; history is kept."""
    if kind is AssignmentKind.DELEGATE:
        raise Unprocessable("kind: use POST …/delegate to delegate", field="kind")
    row = await incidents.lock(uow.session, caller, incident_id)
    await check_active_user(uow, row.tenant_id, user_id)
    active = await store.of_incident(uow.session, incident_id, active_only=True)
    kinds = OWNER_KINDS if kind is AssignmentKind.ASSIGNEE else (AssignmentKind.CC.value,)
    if str(user_id) in _holders(active, kinds):
        raise Conflict(
            f"user_id: {user_id} is already {'assigned' if kind is AssignmentKind.ASSIGNEE else 'CC'}"
        )
    now = uow.now
    assignment = await _add(uow, row, caller, user_id, kind, note)
    who = person(caller)
    name = "assignees" if kind is AssignmentKind.ASSIGNEE else "cc"
    before = _holders(active, kinds)
    await incidents.record(
        uow.session, row, [Record(name, before, sorted([*before, str(user_id)]))], who, now, note
    )
    await incidents.touch(uow.session, incident_id)
    announce(
        uow,
        row,
        IncidentAssigned,
        who,
        assignment_id=assignment["id"],
        user_id=user_id,
        kind=kind,
        assigned_by=caller.user_id,
        note=note,
        assigned_at=now,
    )
    return assignment


async def unassign(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, user_id: UUID, kind: AssignmentKind
) -> list[dict[str, Any]]:
    """End a user's active assignment (or CC); the ended assignments."""
    row = await incidents.lock(uow.session, caller, incident_id)
    active = await store.of_incident(uow.session, incident_id, active_only=True)
    kinds = OWNER_KINDS if kind is not AssignmentKind.CC else (AssignmentKind.CC.value,)
    ending = [a for a in active if a["user_id"] == user_id and a["kind"] in kinds]
    if not ending:
        raise NotFound(f"user {user_id} holds no active {kind.value} assignment on this incident")
    now = await _end_assignments(uow, ending)
    who = person(caller)
    name = "cc" if kind is AssignmentKind.CC else "assignees"
    before = _holders(active, kinds)
    await incidents.record(
        uow.session, row, [Record(name, before, [u for u in before if u != str(user_id)])], who, now
    )
    await incidents.touch(uow.session, incident_id)
    for a in ending:
        announce(uow, row, IncidentUnassigned, who, assignment_id=a["id"], user_id=user_id, unassigned_at=now)
        a["is_active"], a["unassigned_at"] = False, now
    return ending


async def delegate(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    user_id: UUID,
    from_user_id: UUID | None,
    note: str | None,
) -> dict[str, Any]:
    """Hand the work from one owner to another: the previous assignment ends, the new one keeps
    ``delegated_from``. Without ``from_user_id``: the caller if they own it, else the only owner."""
    row = await incidents.lock(uow.session, caller, incident_id)
    await check_active_user(uow, row.tenant_id, user_id)
    active = await store.of_incident(uow.session, incident_id, active_only=True)
    owners = [a for a in active if a["kind"] in OWNER_KINDS]
    if from_user_id is None:
        mine = [a for a in owners if a["user_id"] == caller.user_id]
        if mine:
            from_user_id = caller.user_id
        elif len({a["user_id"] for a in owners}) == 1:
            from_user_id = owners[0]["user_id"]
        else:
            raise Unprocessable(
                "from_user_id: say whose work is delegated (the incident has "
                f"{len(owners)} owners and the caller is not one)",
                field="from_user_id",
            )
    ending = [a for a in owners if a["user_id"] == from_user_id]
    if not ending:
        raise Conflict(f"from_user_id: {from_user_id} is not assigned to this incident", field="from_user_id")
    if user_id == from_user_id or any(a["user_id"] == user_id for a in owners):
        raise Conflict(f"user_id: {user_id} is already assigned", field="user_id")
    now = await _end_assignments(uow, ending)
    assignment = await _add(uow, row, caller, user_id, AssignmentKind.DELEGATE, note, from_user_id)
    who = person(caller)
    before = _holders(active, OWNER_KINDS)
    after = sorted([u for u in before if u != str(from_user_id)] + [str(user_id)])
    await incidents.record(uow.session, row, [Record("assignees", before, after)], who, now, note)
    await incidents.touch(uow.session, incident_id)
    announce(
        uow,
        row,
        IncidentDelegated,
        who,
        assignment_id=assignment["id"],
        user_id=user_id,
        delegated_from=from_user_id,
        assigned_by=caller.user_id,
        note=note,
        assigned_at=now,
    )
    return assignment
