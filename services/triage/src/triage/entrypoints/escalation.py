"""An incident's escalations: manual escalation and its history (HTTP), the state of its
automatic escalation (HTTP), and the events that drive automatic escalation (docs/escalation.md)."""

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.consumer import Handler, batched
from contracts.enums import Severity
from contracts.events import (
    IncidentCreated,
    IncidentEscalated,
    IncidentReopened,
    IncidentStatusChanged,
    SlaAtRisk,
    SlaBreached,
)
from triage.entrypoints.deps import Escalator, Viewer, _once
from triage.handlers import severity
from triage.handlers.escalation import STOP_REASONS, Escalations
from triage.views import escalation as escalation_views

router = APIRouter(prefix="/v1")


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


class Escalate(Strict):
    reason: str = Field(min_length=1, max_length=2000)
    priority: str | None = Field(default=None, max_length=40, description="A more urgent priority.")
    severity: Severity | None = Field(default=None, description="A more severe severity (kept as override).")


@router.post(
    "/incidents/{incident_id}/escalate", response_model=EscalationOut, status_code=201, tags=["incidents"]
)
async def escalate(
    incident_id: UUID, body: Escalate, request: Request, caller: Escalator, uow: UowDep
) -> JSONResponse:
    """Escalate by hand, with a reason: raise the priority and/or the severity; with neither,
    the priority goes one level up. Lowering is refused (422); a resolved or closed incident
    cannot be escalated (409). Needs `incidents.escalate`. Announces `incident.escalated.v1`
    (trigger manual)."""

    async def work() -> Any:
        done = await severity.escalate(uow, caller, incident_id, body.reason, body.priority, body.severity)
        return EscalationOut.model_validate(asdict(done)).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.get(
    "/incidents/{incident_id}/escalations/history", response_model=list[EscalationOut], tags=["incidents"]
)
async def list_escalations(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[EscalationOut]:
    """The incident's manual escalations, oldest first (004 `incident_escalations`). The state
    of its escalation policy, and the automatic escalations, are at `GET …/escalations`."""
    return [
        EscalationOut.model_validate(r) for r in await escalation_views.escalations(uow, caller, incident_id)
    ]


class StepOut(BaseModel):
    id: UUID
    trigger: str
    cause: str
    run: int | None
    policy_id: UUID | None
    level: int | None
    loop: int
    target_user_ids: list[UUID]
    target_roles: list[str]
    reason: str | None
    fired_at: datetime


class EscalationState(BaseModel):
    state: str = Field(description="running, stopped, completed, or none (no policy applied).")
    policy_id: UUID | None = None
    policy_name: str | None = None
    run: int | None = Field(default=None, description="1, then +1 each time a reopen restarts it.")
    current_level: int | None = Field(default=None, description="The level paged last.")
    loop: int | None = None
    next_due_at: datetime | None = Field(default=None, description="When the next level is paged.")
    stop_reason: str | None = None
    started_at: datetime | None = None


class IncidentEscalations(BaseModel):
    incident_id: UUID
    escalation: EscalationState
    steps: list[StepOut]


@router.get("/incidents/{incident_id}/escalations", response_model=IncidentEscalations, tags=["escalation"])
async def incident_escalations(incident_id: UUID, caller: Viewer, uow: UowDep) -> IncidentEscalations:
    """The incident's automatic escalation (state, current level, when the next level is due)
    and every escalation so far, automatic and manual, oldest first.

    Needs `incidents.view`; 404 when the caller may not see the incident.
    """
    found = await escalation_views.incident_escalations(uow, caller, incident_id)
    run = found["escalation"]
    state = (
        EscalationState(
            state=run["status"],
            policy_id=run["policy_id"],
            policy_name=run["policy_name"],
            run=run["run"],
            current_level=run["level"],
            loop=run["loop"],
            next_due_at=run["next_due_at"],
            stop_reason=run["stop_reason"],
            started_at=run["started_at"],
        )
        if run
        else EscalationState(state="none")
    )
    return IncidentEscalations(
        incident_id=incident_id,
        escalation=state,
        steps=[StepOut.model_validate(s) for s in found["steps"]],
    )


def consumers(escalations: Escalations) -> dict[str, Handler]:
    """The event handlers of automatic escalation, for the service's consumer."""
    stop = batched(escalations.stop)  # one object: a run of mixed stop events is one batch
    sla = batched(escalations.on_sla)
    return {
        IncidentCreated.event_type: batched(escalations.start),
        IncidentReopened.event_type: batched(escalations.restart),
        IncidentEscalated.event_type: batched(escalations.follow_manual),
        IncidentStatusChanged.event_type: batched(escalations.on_status_changed),
        SlaAtRisk.event_type: sla,
        SlaBreached.event_type: sla,
        **{event_type: stop for event_type in STOP_REASONS},
    }
