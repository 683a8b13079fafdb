"""HTTP routes of an incident's tasks."""

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.problems import Unprocessable
from contracts.enums import IncidentTaskStatus
from triage.entrypoints.deps import Int4, TaskManager, Viewer, _once
from triage.handlers import task
from triage.views import task as task_views

router = APIRouter(prefix="/v1", tags=["incidents"])


class TaskOut(BaseModel):
    id: UUID
    incident_id: UUID
    title: str
    description: str
    status: str
    assignee_id: UUID | None
    due_at: datetime | None
    completed_at: datetime | None
    sort_order: int
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime


class NewTask(Strict):
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    assignee_id: UUID | None = None
    due_at: datetime | None = None
    sort_order: Int4 | None = None


class TaskPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    status: IncidentTaskStatus | None = None
    assignee_id: UUID | None = None
    due_at: datetime | None = None
    sort_order: Int4 | None = None


@router.post("/incidents/{incident_id}/tasks", response_model=TaskOut, status_code=201)
async def add_task(
    incident_id: UUID, body: NewTask, request: Request, caller: TaskManager, uow: UowDep
) -> JSONResponse:
    """Add a task (status `open`). Needs `incidents.tasks.manage`."""

    async def work() -> Any:
        row = await task.add_task(uow, caller, incident_id, body.model_dump())
        return TaskOut.model_validate(asdict(row)).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.patch("/incidents/{incident_id}/tasks/{task_id}", response_model=TaskOut)
async def update_task(
    incident_id: UUID, task_id: UUID, body: TaskPatch, request: Request, caller: TaskManager, uow: UowDep
) -> JSONResponse:
    """Change a task (title, description, status, assignee, due time, order). Needs
    `incidents.tasks.manage`."""
    values = body.model_dump(exclude_unset=True)
    if "status" in values:
        if values["status"] is None:
            raise Unprocessable("status: may not be null", field="status")
        values["status"] = values["status"].value

    async def work() -> Any:
        row = await task.update_task(uow, caller, incident_id, task_id, values)
        return TaskOut.model_validate(asdict(row)).model_dump(mode="json")

    return await _once(request, uow, caller, 200, work)


@router.get("/incidents/{incident_id}/tasks", response_model=list[TaskOut])
async def list_tasks(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[TaskOut]:
    """The incident's tasks in their order."""
    return [TaskOut.model_validate(r) for r in await task_views.tasks(uow, caller, incident_id)]
