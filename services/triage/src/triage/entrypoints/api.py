"""HTTP API of the triage service: the incident record, its lifecycle, assignment, manual
escalation, comments, tasks, attachments and update history; the tenant's catalogs.

Every endpoint needs a bearer token (DESIGN §5). The tenant is always the caller's; a client
contact sees (and acts on) only its client's incidents and a vendor contact only those linked to
its vendor (through the component the incident was opened on). Anything else answers 404, as if
absent. Every write accepts an ``Idempotency-Key`` header and emits its events (DESIGN §4).
"""

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once, user_scope
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import AssignmentKind, IncidentTaskStatus, Severity
from contracts.events.intake import ImpactFacts
from contracts.permissions import Permission
from triage import handlers
from triage.adapters.incidents import SORTS, IncidentFilters
from triage.domain.lifecycle import ACKNOWLEDGED, CLOSED, RESOLVED

router = APIRouter(prefix="/v1", tags=["incidents"])
INT4_MAX = 2**31 - 1
Int4 = Annotated[int, Field(ge=-(2**31), le=INT4_MAX)]  # what an Integer column holds
catalog_router = APIRouter(prefix="/v1", tags=["catalogs"])

Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]
Updater = Annotated[Principal, requires(Permission.INCIDENTS_UPDATE)]
Deleter = Annotated[Principal, requires(Permission.INCIDENTS_DELETE)]
Assigner = Annotated[Principal, requires(Permission.INCIDENTS_ASSIGN)]
Delegator = Annotated[Principal, requires(Permission.INCIDENTS_DELEGATE)]
Escalator = Annotated[Principal, requires(Permission.INCIDENTS_ESCALATE)]
TaskManager = Annotated[Principal, requires(Permission.INCIDENTS_TASKS_MANAGE)]
Commenter = Annotated[Principal, requires(Permission.INCIDENTS_COMMENTS_MANAGE)]


class IncidentOut(BaseModel):
    id: UUID
    tenant_id: UUID
    reference_code: str
    title: str
    description: str
    status: str
    severity: str
    computed_severity: str | None = None
    severity_override: str | None = None
    severity_override_reason: str | None = None
    severity_overridden_by: UUID | None = None
    severity_overridden_at: datetime | None = None
    severity_flags: dict[str, bool]
    contractual_p1: bool = False
    recurrent: bool = False
    impact: dict[str, Any]
    priority: str | None = None
    category: str | None = None
    source: str
    dedup_key: str | None
    client_id: UUID | None
    component_id: UUID | None
    vendor_id: UUID | None
    reporter: dict[str, Any] | None = None
    alert_severity: str | None = None
    details: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    alert_count: int
    labels: dict[str, str]
    resolution: str | None = None
    assignees: list[UUID] = []
    cc: list[UUID] = []
    detected_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: UUID | None = None
    resolved_at: datetime | None = None
    resolved_by: UUID | None = None
    closed_at: datetime | None = None
    closed_by: UUID | None = None
    created_at: datetime
    updated_at: datetime


class UpdateOut(BaseModel):
    id: UUID
    incident_id: UUID
    field: str
    from_value: Any
    to_value: Any
    changed_by: UUID | None
    changed_by_role: str | None
    via: str
    note: str | None
    changed_at: datetime


class AssignmentOut(BaseModel):
    id: UUID
    incident_id: UUID
    user_id: UUID
    kind: str
    assigned_by: UUID | None
    delegated_from: UUID | None = None
    note: str | None
    assigned_at: datetime
    unassigned_at: datetime | None = None
    is_active: bool


class EscalationOut(BaseModel):
    id: UUID
    incident_id: UUID
    trigger: str
    cause: str
    reason: str | None
    level: int | None = None
    policy_id: UUID | None = None
    from_priority: str | None
    to_priority: str | None
    from_severity: str | None
    to_severity: str | None
    escalated_by: UUID | None
    escalated_at: datetime


class CommentOut(BaseModel):
    id: UUID
    incident_id: UUID
    author_id: UUID | None
    author_role: str | None
    body: str
    is_internal: bool
    created_at: datetime


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


class AttachmentOut(BaseModel):
    id: UUID
    incident_id: UUID
    comment_id: UUID | None
    filename: str
    mime_type: str
    size_bytes: int
    uploaded_by: UUID | None
    created_at: datetime


async def _once(
    request: Request, uow: UnitOfWork, caller: Principal, status: int, work: Callable[[], Awaitable[Any]]
) -> JSONResponse:
    async def run() -> tuple[int, Any]:
        return status, await work()

    return await respond_once(request, uow, user_scope(caller), run)


async def _incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    row = await handlers.get_incident(uow, caller, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return IncidentOut.model_validate(row).model_dump(mode="json")


# --------------------------------------------------------------------------- queries


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
async def get_incident(incident_id: UUID, caller: Viewer, uow: UowDep) -> Any:
    """One incident of the caller's tenant: severity (effective, computed, override and every
    flag), status, priority, links, timestamps, active assignees and CC watchers.

    Needs `incidents.view`. Answers 404 for an incident of another tenant, and for a client or
    vendor contact also for an incident of another client or not linked to its vendor.
    """
    return await _incident(uow, caller, incident_id)


def _cursor(value: Any, id_: UUID) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(id_)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _uncursor(cursor: str, sort: str) -> tuple[Any, UUID]:
    try:
        value, id_ = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort.lstrip("-") in ("detected", "updated"):
            value = datetime.fromisoformat(value)
        return value, UUID(id_)
    except (ValueError, TypeError) as exc:
        raise Unprocessable("cursor: not a cursor this list gave", field="cursor") from exc


Sort = Literal[
    "-created", "created", "-detected", "detected", "-updated", "updated", "severity", "-severity",
    "reference", "-reference",
]  # fmt: skip


@router.get("/incidents", response_model=list[IncidentOut])
async def list_incidents(
    request: Request,
    response: Response,
    caller: Viewer,
    uow: UowDep,
    status: Annotated[
        list[str] | None, Query(description="Only these statuses (repeat for several).")
    ] = None,
    severity: Annotated[
        list[Severity] | None, Query(description="Only these severities, e.g. `P1` (repeat for several).")
    ] = None,
    client_id: Annotated[UUID | None, Query(description="Only this client's incidents.")] = None,
    component_id: Annotated[UUID | None, Query(description="Only incidents on this component.")] = None,
    assignee_id: Annotated[UUID | None, Query(description="Only incidents this user is assigned.")] = None,
    created_from: Annotated[datetime | None, Query(description="Created at or after this time.")] = None,
    created_to: Annotated[datetime | None, Query(description="Created before this time.")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the title, description or reference.")
    ] = None,
    sort: Annotated[Sort, Query(description="Order: a field, `-` for descending; ties by id.")] = "-created",
    after: Annotated[
        UUID | None,
        Query(description="Keyset cursor of the default order: the `id` of the last incident of the page."),
    ] = None,
    cursor: Annotated[str | None, Query(description="Keyset cursor of other orders (from `Link`).")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
) -> list[IncidentOut]:
    """The incidents of the caller's tenant that the caller may see; newest first by default.

    Needs `incidents.view`. Client contacts get only their client's incidents, vendor contacts
    only those linked to their vendor. Filters combine with AND; a repeated `status` or
    `severity` means any of them.

    Pagination is by keyset, stable while incidents keep arriving. In creation order (`-created`,
    the default, or `created`: ids are time-ordered) `after=<id of the last item>` returns the
    next page; in other orders, `cursor` does. A full page carries `Link: <…>; rel="next"`; a shorter page
    is the last one.
    """
    after_value = None
    if cursor is not None:
        after_value, after = _uncursor(cursor, sort)
    filters = IncidentFilters(
        status=list(status or ()),
        severity=[s.value for s in severity or ()],
        client_id=client_id,
        component_id=component_id,
        assignee_id=assignee_id,
        created_from=created_from,
        created_to=created_to,
        text=q or None,
        sort=sort,
        after=after,
        after_value=after_value,
        limit=limit,
    )
    rows = await handlers.list_incidents(uow, caller, filters)
    if len(rows) == limit:
        last = rows[-1]
        if sort.lstrip("-") == "created":  # the id order: the id is the cursor
            following = request.url.remove_query_params("cursor").include_query_params(after=str(last["id"]))
        else:
            column = SORTS[sort.lstrip("-")].name
            following = request.url.remove_query_params("after").include_query_params(
                cursor=_cursor(last[column], last["id"])
            )
        response.headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return [IncidentOut.model_validate(r) for r in rows]


@router.get("/incidents/{incident_id}/updates", response_model=list[UpdateOut])
async def list_updates(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[UpdateOut]:
    """The incident's update records, oldest first: one per changed field, with who changed it
    (`changed_by`, or `via` alert/system), the value before and after, and when."""
    return [UpdateOut.model_validate(r) for r in await handlers.updates(uow, caller, incident_id)]


# --------------------------------------------------------------------------- changes


class IncidentPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20000)
    category: str | None = Field(default=None, max_length=100)
    priority: str | None = Field(default=None, max_length=40)
    impact: ImpactFacts | None = None
    metadata: dict[str, Any] | None = None
    status: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000, description="Why; kept on the update records.")


@router.patch("/incidents/{incident_id}", response_model=IncidentOut)
async def patch_incident(
    incident_id: UUID, body: IncidentPatch, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Change fields of an incident (001 "Updating Incident Status").

    Needs `incidents.update` (incident managers, technical support, executives). Only the
    fields sent change; each changed field writes an update record. `impact` merges into the
    facts and re-evaluates the severity; `category` and `priority` must be active entries of the
    tenant's catalogs; `status` must be an allowed move of the status catalog (409 otherwise).
    """
    values = body.model_dump(exclude_unset=True, exclude={"note"})
    for name in ("title", "status", "impact", "metadata"):
        if name in values and values[name] is None:
            raise Unprocessable(f"{name}: may not be null", field=name)
    if body.impact is not None:
        values["impact"] = body.impact.model_dump(exclude_unset=True, mode="json")

    async def work() -> Any:
        await handlers.patch_incident(uow, caller, incident_id, values, body.note)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


class Note(Strict):
    note: str | None = Field(default=None, max_length=2000)


class Resolve(Strict):
    resolution: str | None = Field(default=None, max_length=20000)
    note: str | None = Field(default=None, max_length=2000)


class Reopen(Strict):
    reason: str = Field(min_length=1, max_length=2000)


def _mover(target: str) -> Callable[..., Awaitable[JSONResponse]]:
    async def move(
        incident_id: UUID, request: Request, caller: Updater, uow: UowDep, body: Note | None = None
    ) -> JSONResponse:
        async def work() -> Any:
            note = body.note if body else None
            await handlers.transition(uow, caller, incident_id, target, note=note)
            return await _incident(uow, caller, incident_id)

        return await _once(request, uow, caller, 200, work)

    return move


_DOC = (
    "Needs `incidents.update`. Moves the incident to `{0}` if the tenant's status catalog allows it"
    " from its current status (409 with the allowed moves otherwise). The first move out of `open`"
    " by a person also acknowledges the incident."
)
router.post(
    "/incidents/{incident_id}/acknowledge",
    response_model=IncidentOut,
    summary="Acknowledge an incident",
    description=_DOC.format(ACKNOWLEDGED),
)(_mover(ACKNOWLEDGED))
router.post(
    "/incidents/{incident_id}/close",
    response_model=IncidentOut,
    summary="Close an incident",
    description=_DOC.format(CLOSED),
)(_mover(CLOSED))


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentOut)
async def resolve(
    incident_id: UUID, request: Request, caller: Updater, uow: UowDep, body: Resolve | None = None
) -> JSONResponse:
    """Resolve an incident, with an optional resolution text.

    Needs `incidents.update`. Allowed from any open status of the default catalog (409 when it
    is resolved or closed already). Announces `incident.resolved.v1` with the dedup key, so
    intake closes it."""

    async def work() -> Any:
        await handlers.transition(
            uow,
            caller,
            incident_id,
            RESOLVED,
            note=body.note if body else None,
            resolution=body.resolution if body else None,
        )
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentOut)
async def reopen(
    incident_id: UUID, body: Reopen, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Reopen a resolved or closed incident: it goes back to the default status (`open`), with
    a reason. Needs `incidents.update`."""

    async def work() -> Any:
        await handlers.reopen(uow, caller, incident_id, body.reason)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


class SeverityOverride(Strict):
    severity: Severity
    reason: str = Field(min_length=1, max_length=2000)


@router.put("/incidents/{incident_id}/severity-override", response_model=IncidentOut)
async def override_severity(
    incident_id: UUID, body: SeverityOverride, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Override the computed severity, with a reason. Incident managers only (403 for other
    roles). The computed severity and every flag stay visible beside the override."""

    async def work() -> Any:
        await handlers.override_severity(uow, caller, incident_id, body.severity, body.reason)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


@router.delete("/incidents/{incident_id}/severity-override", response_model=IncidentOut)
async def clear_severity_override(
    incident_id: UUID, request: Request, caller: Updater, uow: UowDep
) -> JSONResponse:
    """Drop the override: the computed severity applies again. Incident managers only."""

    async def work() -> Any:
        await handlers.override_severity(uow, caller, incident_id, None, None)
        return await _incident(uow, caller, incident_id)

    return await _once(request, uow, caller, 200, work)


@router.delete("/incidents/{incident_id}", status_code=204)
async def delete_incident(incident_id: UUID, caller: Deleter, uow: UowDep) -> Response:
    """Soft-delete an incident: kept for the audit trail, no longer listed or readable.
    Needs `incidents.delete` (system administrators)."""
    await handlers.delete_incident(uow, caller, incident_id)
    await uow.commit()
    return Response(status_code=204)


# --------------------------------------------------------------------------- assignment


class Assign(Strict):
    user_id: UUID
    kind: Literal["assignee", "cc"] = "assignee"
    note: str | None = Field(default=None, max_length=2000)


class Unassign(Strict):
    user_id: UUID
    kind: Literal["assignee", "cc"] = "assignee"


class Delegate(Strict):
    user_id: UUID
    from_user_id: UUID | None = None
    note: str | None = Field(default=None, max_length=2000)


@router.post("/incidents/{incident_id}/assign", response_model=AssignmentOut, status_code=201)
async def assign(
    incident_id: UUID, body: Assign, request: Request, caller: Assigner, uow: UowDep
) -> JSONResponse:
    """Assign a user (`kind` assignee; an incident may have several) or add a CC watcher
    (`kind` cc). The user must be an active user of the tenant (422); assigning someone already
    assigned is a 409. Needs `incidents.assign`."""

    async def work() -> Any:
        row = await handlers.assign(
            uow, caller, incident_id, body.user_id, AssignmentKind(body.kind), body.note
        )
        return AssignmentOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.post("/incidents/{incident_id}/unassign", response_model=list[AssignmentOut])
async def unassign(
    incident_id: UUID, body: Unassign, request: Request, caller: Assigner, uow: UowDep
) -> JSONResponse:
    """End a user's active assignment (or CC); answers the ended assignments (404 when the user
    holds none). Needs `incidents.assign`."""

    async def work() -> Any:
        rows = await handlers.unassign(uow, caller, incident_id, body.user_id, AssignmentKind(body.kind))
        return [AssignmentOut.model_validate(r).model_dump(mode="json") for r in rows]

    return await _once(request, uow, caller, 200, work)


@router.post("/incidents/{incident_id}/delegate", response_model=AssignmentOut, status_code=201)
async def delegate(
    incident_id: UUID, body: Delegate, request: Request, caller: Delegator, uow: UowDep
) -> JSONResponse:
    """Delegate the work from an owner (`from_user_id`; by default the caller if assigned, else
    the only owner) to another user. The previous assignment ends; the new one keeps
    `delegated_from`. Needs `incidents.delegate`."""

    async def work() -> Any:
        row = await handlers.delegate(uow, caller, incident_id, body.user_id, body.from_user_id, body.note)
        return AssignmentOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.get("/incidents/{incident_id}/assignments", response_model=list[AssignmentOut])
async def list_assignments(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[AssignmentOut]:
    """The full assignment history (active and ended), oldest first."""
    return [AssignmentOut.model_validate(r) for r in await handlers.assignments(uow, caller, incident_id)]


# --------------------------------------------------------------------------- escalation


class Escalate(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    priority: str | None = Field(default=None, max_length=40, description="A more urgent priority.")
    severity: Severity | None = Field(default=None, description="A more severe severity (kept as override).")


@router.post("/incidents/{incident_id}/escalate", response_model=EscalationOut, status_code=201)
async def escalate(
    incident_id: UUID, body: Escalate, request: Request, caller: Escalator, uow: UowDep
) -> JSONResponse:
    """Escalate by hand, with a reason: raise the priority and/or the severity; with neither,
    the priority goes one level up. Lowering is refused (422); a resolved or closed incident
    cannot be escalated (409). Needs `incidents.escalate`. Announces `incident.escalated.v1`
    (trigger manual)."""

    async def work() -> Any:
        row = await handlers.escalate(uow, caller, incident_id, body.reason, body.priority, body.severity)
        return EscalationOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.get("/incidents/{incident_id}/escalations/history", response_model=list[EscalationOut])
async def list_escalations(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[EscalationOut]:
    """The incident's manual escalations, oldest first (004 `incident_escalations`). The state
    of its escalation policy, and the automatic escalations, are at `GET …/escalations`."""
    return [EscalationOut.model_validate(r) for r in await handlers.escalations(uow, caller, incident_id)]


# --------------------------------------------------------------------------- comments and tasks


class NewComment(Strict):
    body: str = Field(min_length=1, max_length=20000)
    is_internal: bool | None = Field(
        default=None, description="Staff comments are internal unless false; contacts' are public."
    )


@router.post("/incidents/{incident_id}/comments", response_model=CommentOut, status_code=201)
async def add_comment(
    incident_id: UUID, body: NewComment, request: Request, caller: Commenter, uow: UowDep
) -> JSONResponse:
    """Comment on an incident. Needs `incidents.comments.manage`. Client and vendor contacts
    write public comments only and read only public ones."""

    async def work() -> Any:
        row = await handlers.add_comment(uow, caller, incident_id, body.body, body.is_internal)
        return CommentOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.get("/incidents/{incident_id}/comments", response_model=list[CommentOut])
async def list_comments(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[CommentOut]:
    """The comments the caller may read, oldest first."""
    return [CommentOut.model_validate(r) for r in await handlers.comments(uow, caller, incident_id)]


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
        row = await handlers.add_task(uow, caller, incident_id, body.model_dump())
        return TaskOut.model_validate(row).model_dump(mode="json")

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
        row = await handlers.update_task(uow, caller, incident_id, task_id, values)
        return TaskOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 200, work)


@router.get("/incidents/{incident_id}/tasks", response_model=list[TaskOut])
async def list_tasks(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[TaskOut]:
    """The incident's tasks in their order."""
    return [TaskOut.model_validate(r) for r in await handlers.tasks(uow, caller, incident_id)]


# --------------------------------------------------------------------------- catalogs

SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"
# Each limit is its column's (triage.adapters.orm; tests/fuzz/test_column_limits.py holds them).
Slug = Annotated[str, Field(min_length=1, max_length=40, pattern=SLUG_PATTERN)]
CategorySlug = Annotated[str, Field(min_length=1, max_length=100, pattern=SLUG_PATTERN)]
# An optional field whose column is NOT NULL: omitted keeps (or defaults) it, null is refused
# (422), so the schema offers no null.
NotNull = SkipJsonSchema[None]


class StatusIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)] | NotNull = None
    sort_order: Int4 | NotNull = None
    is_terminal: bool | NotNull = None
    is_default: bool | NotNull = None
    next_statuses: list[Slug] | None = Field(default=None, description="null: any later status.")
    is_active: bool | NotNull = None


class NewStatus(StatusIn):
    slug: Slug
    name: str = Field(min_length=1, max_length=100)
    sort_order: Int4


class CategoryIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | NotNull = None
    description: Annotated[str, Field(max_length=2000)] | NotNull = None
    is_active: bool | NotNull = None


class NewCategory(CategoryIn):
    slug: CategorySlug
    name: str = Field(min_length=1, max_length=200)


class PriorityIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)] | NotNull = None
    level: Annotated[int, Field(ge=1, le=100)] | NotNull = None
    response_time_minutes: Annotated[int, Field(ge=1, le=INT4_MAX)] | NotNull = None
    resolution_time_minutes: Annotated[int, Field(ge=1, le=INT4_MAX)] | NotNull = None
    is_active: bool | NotNull = None


class NewPriority(PriorityIn):
    slug: Slug
    name: str = Field(min_length=1, max_length=100)
    level: int = Field(ge=1, le=100)


def _without_nulls(body: BaseModel) -> dict[str, Any]:
    """The fields sent; a null where the column holds none is refused here, not by the database."""
    values = body.model_dump(exclude_unset=True)
    for name, value in values.items():
        if value is None and name != "next_statuses":
            raise Unprocessable(f"{name}: may not be null", field=name)
    return values


CatalogName = Literal["statuses", "categories", "priorities"]

CATALOGS: dict[CatalogName, tuple[Permission, type[Strict], type[Strict]]] = {
    "statuses": (Permission.INCIDENTS_STATUSES_MANAGE, NewStatus, StatusIn),
    "categories": (Permission.INCIDENTS_CATEGORIES_MANAGE, NewCategory, CategoryIn),
    "priorities": (Permission.INCIDENTS_PRIORITIES_MANAGE, NewPriority, PriorityIn),
}


def _catalog_routes(catalog: CatalogName) -> None:
    permission, create_model, change_model = CATALOGS[catalog]
    slug_length = 100 if catalog == "categories" else 40
    Manager = Annotated[Principal, requires(permission)]

    async def list_items(caller: Viewer, uow: UowDep) -> Any:
        items = await handlers.catalog_items(uow, caller, catalog)
        await uow.commit()  # the lazily seeded defaults, if this was the tenant's first use
        return JSONResponse(jsonable(items))

    async def create_item(body: create_model, request: Request, caller: Manager, uow: UowDep) -> Any:  # type: ignore[valid-type]
        values = _without_nulls(body)
        slug = values.pop("slug")

        async def work() -> Any:
            return jsonable(await handlers.put_catalog_item(uow, caller, catalog, slug, values, create=True))

        return await _once(request, uow, caller, 201, work)

    async def change_item(
        slug: Annotated[str, Path(max_length=slug_length, pattern=SLUG_PATTERN)],
        body: change_model,  # type: ignore[valid-type]
        request: Request,
        caller: Manager,
        uow: UowDep,
    ) -> Any:
        values = _without_nulls(body)

        async def work() -> Any:
            return jsonable(await handlers.put_catalog_item(uow, caller, catalog, slug, values, create=False))

        return await _once(request, uow, caller, 200, work)

    noun = catalog.rstrip("s") if catalog != "categories" else "category"
    noun = "priority" if catalog == "priorities" else "status" if catalog == "statuses" else noun
    catalog_router.get(f"/{catalog}", summary=f"The tenant's {catalog}", description=(
        "Needs `incidents.view`. The defaults are written the first time a tenant is seen."
    ))(list_items)  # fmt: skip
    catalog_router.post(f"/{catalog}", status_code=201, summary=f"Add a {noun}", description=(
        f"Needs `{permission.value}`. Announces `incident_catalog.changed.v1`."
    ))(create_item)  # fmt: skip
    catalog_router.patch(f"/{catalog}/{{slug}}", summary=f"Change a {noun}", description=(
        f"Needs `{permission.value}`. Only the fields sent change; `is_active` false retires it."
    ))(change_item)  # fmt: skip


def jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


for _catalog in CATALOGS:
    _catalog_routes(_catalog)
