"""An incident's tasks: what adding one writes, and what a change to one changes. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.problems import Unprocessable
from contracts.enums import IncidentTaskStatus
from contracts.envelope import new_id
from triage.domain.incident import Incident, as_json

# What a person may change of a task.
FIELDS = ("title", "description", "status", "assignee_id", "due_at", "sort_order")


@dataclass(frozen=True)
class Task:
    """A task as stored: one field per column of the incident_tasks table."""

    id: UUID
    tenant_id: UUID
    incident_id: UUID
    title: str
    status: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    assignee_id: UUID | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    sort_order: int = 0
    created_by: UUID | None = None

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> Task:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


def new_task(incident: Incident, values: Mapping[str, Any], by: UUID | None, now: datetime) -> Task:
    """A new open task of the incident, from the fields sent."""
    return Task(
        id=new_id(),
        tenant_id=incident.tenant_id,
        incident_id=incident.id,
        title=values["title"],
        description=values.get("description") or "",
        status=IncidentTaskStatus.OPEN.value,
        assignee_id=values.get("assignee_id"),
        due_at=values.get("due_at"),
        sort_order=values.get("sort_order") or 0,
        created_by=by,
        created_at=now,
        updated_at=now,
    )


def edit_task(task: Task, values: Mapping[str, Any], now: datetime) -> tuple[Task, dict[str, dict[str, Any]]]:
    """The task with the fields sent, and what changed ({"from", "to"} as JSON; nothing: the
    task as it was). Completing it stamps when; leaving completed clears that."""
    if "title" in values and not values["title"]:
        raise Unprocessable("title: may not be empty", field="title")
    sent = {name: values[name] for name in FIELDS if name in values}
    if "sort_order" in sent:
        sent["sort_order"] = sent["sort_order"] or 0
    new = replace(task, **sent)
    if new.status != task.status:
        completed = new.status == IncidentTaskStatus.COMPLETED.value
        new = replace(new, completed_at=now if completed else None)
    changes = {
        k: {"from": as_json(getattr(task, k)), "to": as_json(getattr(new, k))}
        for k in FIELDS
        if as_json(getattr(task, k)) != as_json(getattr(new, k))
    }
    if not changes:
        return task, {}
    return replace(new, updated_at=now), changes
