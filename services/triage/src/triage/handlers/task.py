"""Tasks of an incident."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import IncidentTaskStatus
from contracts.envelope import new_id
from contracts.events import (
    IncidentTaskAdded,
    IncidentTaskUpdated,
)
from triage.adapters.orm import incident_tasks
from triage.handlers.assignment import _active_user
from triage.handlers.edits import (
    Who,
    _emit,
    _json,
    _locked,
    _now,
    _record,
    _record_row,
    _touch,
    _visible,
)


async def add_task(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    row = await _locked(uow, caller, incident_id)
    if values.get("assignee_id") is not None:
        await _active_user(uow, row["tenant_id"], values["assignee_id"])
    now = _now()
    task = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
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
    await uow.session.execute(insert(incident_tasks).values(task))
    who = Who.person(caller)
    await _record(uow, [_record_row(row, "tasks", None, {"id": task["id"], "title": task["title"]}, who)])
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
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
    row = await _locked(uow, caller, incident_id)
    task = (
        (
            await uow.session.execute(
                select(incident_tasks)
                .where(incident_tasks.c.id == task_id, incident_tasks.c.incident_id == incident_id)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if task is None:
        raise NotFound(f"no task {task_id} on incident {incident_id}")
    if values.get("assignee_id") is not None and values["assignee_id"] != task["assignee_id"]:
        await _active_user(uow, row["tenant_id"], values["assignee_id"])
    if "title" in values and not values["title"]:
        raise Unprocessable("title: may not be empty", field="title")
    new = dict(task)
    for name in TASK_FIELDS:
        if name in values:
            new[name] = values[name] if name != "sort_order" else (values[name] or 0)
    if new["status"] != task["status"]:
        new["completed_at"] = _now() if new["status"] == IncidentTaskStatus.COMPLETED.value else None
    changes = {
        k: {"from": _json(task[k]), "to": _json(new[k])}
        for k in TASK_FIELDS
        if _json(task[k]) != _json(new[k])
    }
    if not changes:
        return dict(task)
    new["updated_at"] = _now()
    await uow.session.execute(
        update(incident_tasks)
        .where(incident_tasks.c.id == task_id)
        .values(
            **{k: new[k] for k in changes}, completed_at=new["completed_at"], updated_at=new["updated_at"]
        )
    )
    who = Who.person(caller)
    await _record(
        uow,
        [
            _record_row(row, f"task.{k}", c["from"], c["to"], who, note=str(task_id))
            for k, c in changes.items()
        ],
    )
    await _touch(uow, incident_id)
    _emit(uow, row, IncidentTaskUpdated, who, task_id=task_id, task_status=new["status"], changes=changes)
    return new


async def tasks(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(incident_tasks)
        .where(incident_tasks.c.incident_id == incident_id)
        .order_by(incident_tasks.c.sort_order, incident_tasks.c.created_at, incident_tasks.c.id)
    )
    return [dict(r) for r in rows.mappings()]
