"""Tasks of an incident (the rules in triage.domain.task)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.events import (
    IncidentTaskAdded,
    IncidentTaskUpdated,
)
from triage.adapters import incident as incidents
from triage.adapters import task as store
from triage.domain.incident import Record
from triage.domain.task import Task, edit_task, new_task
from triage.handlers.assignment import check_active_user
from triage.handlers.incident import announce, person


async def add_task(uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any]) -> Task:
    found = await incidents.lock(uow.session, caller, incident_id)
    if values.get("assignee_id") is not None:
        await check_active_user(uow, found.tenant_id, values["assignee_id"])
    task = new_task(found, values, caller.user_id, uow.now)
    await store.insert_one(uow.session, task)
    who = person(caller)
    added = Record("tasks", None, {"id": str(task.id), "title": task.title})
    await incidents.record(uow.session, found, [added], who, uow.now)
    await incidents.touch(uow.session, incident_id)
    announce(
        uow,
        found,
        IncidentTaskAdded,
        who,
        task_id=task.id,
        task_title=task.title,
        task_status=task.status,
        assignee_id=task.assignee_id,
        due_at=task.due_at,
        sort_order=task.sort_order,
    )
    return task


async def update_task(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, task_id: UUID, values: dict[str, Any]
) -> Task:
    found = await incidents.lock(uow.session, caller, incident_id)
    task = await store.lock(uow.session, found.tenant_id, incident_id, task_id)
    if values.get("assignee_id") is not None and values["assignee_id"] != task.assignee_id:
        await check_active_user(uow, found.tenant_id, values["assignee_id"])
    new, changes = edit_task(task, values, uow.now)
    if not changes:
        return task
    await store.save(uow.session, new, changes)
    who = person(caller)
    records = [Record(f"task.{k}", c["from"], c["to"]) for k, c in changes.items()]
    await incidents.record(uow.session, found, records, who, uow.now, note=str(task_id))
    await incidents.touch(uow.session, incident_id)
    announce(uow, found, IncidentTaskUpdated, who, task_id=task_id, task_status=new.status, changes=changes)
    return new
