"""Tasks of an incident."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import IncidentTaskStatus
from contracts.envelope import new_id
from contracts.events import (
    IncidentTaskAdded,
    IncidentTaskUpdated,
)
from triage.adapters import incident as incidents
from triage.adapters import task as store
from triage.domain.incident import Record, as_json
from triage.handlers.assignment import check_active_user
from triage.handlers.incident import announce, person


async def add_task(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    found = await incidents.lock(uow.session, caller, incident_id)
    if values.get("assignee_id") is not None:
        await check_active_user(uow, found.tenant_id, values["assignee_id"])
    now = uow.now
    task = {
        "id": new_id(),
        "tenant_id": found.tenant_id,
        "incident_id": incident_id,
        "title": values["title"],
        "description": values.get("description") or "",
        "status": IncidentTaskStatus.OPEN.value,
        "assignee_id": values.get("assignee_id"),
        "due_at": values.get("due_at"),
        "sort_order": values.get("sort_order") or 0,
        "created_by": caller.user_id,
        "created_at": now,
        "updated_at": now,
        "completed_at": None,
    }
    await store.insert_one(uow.session, task)
    who = person(caller)
    added = Record("tasks", None, {"id": str(task["id"]), "title": task["title"]})
    await incidents.record(uow.session, found, [added], who, now)
    await incidents.touch(uow.session, incident_id)
    announce(
        uow,
        found,
        IncidentTaskAdded,
        who,
        task_id=task["id"],
        task_title=task["title"],
        task_status=task["status"],
        assignee_id=task["assignee_id"],
        due_at=task["due_at"],
        sort_order=task["sort_order"],
    )
    return task


TASK_FIELDS = ("title", "description", "status", "assignee_id", "due_at", "sort_order")


async def update_task(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, task_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    found = await incidents.lock(uow.session, caller, incident_id)
    task = await store.lock(uow.session, found.tenant_id, incident_id, task_id)
    if values.get("assignee_id") is not None and values["assignee_id"] != task["assignee_id"]:
        await check_active_user(uow, found.tenant_id, values["assignee_id"])
    if "title" in values and not values["title"]:
        raise Unprocessable("title: may not be empty", field="title")
    new = dict(task)
    for name in TASK_FIELDS:
        if name in values:
            new[name] = values[name] if name != "sort_order" else (values[name] or 0)
    if new["status"] != task["status"]:
        new["completed_at"] = uow.now if new["status"] == IncidentTaskStatus.COMPLETED.value else None
    changes = {
        k: {"from": as_json(task[k]), "to": as_json(new[k])}
        for k in TASK_FIELDS
        if as_json(task[k]) != as_json(new[k])
    }
    if not changes:
        return task
    new["updated_at"] = uow.now
    await store.update_one(
        uow.session,
        task_id,
        {
            **{k: new[k] for k in changes},
            "completed_at": new["completed_at"],
            "updated_at": new["updated_at"],
        },
    )
    who = person(caller)
    records = [Record(f"task.{k}", c["from"], c["to"]) for k, c in changes.items()]
    await incidents.record(uow.session, found, records, who, uow.now, note=str(task_id))
    await incidents.touch(uow.session, incident_id)
    announce(
        uow, found, IncidentTaskUpdated, who, task_id=task_id, task_status=new["status"], changes=changes
    )
    return new
