"""HTTP routes of escalation policies (docs/escalation.md). Writing policies needs
`escalation_policies.manage`; reading needs `incidents.view`. Everything is the caller's tenant;
anything else answers 404."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import UowDep
from backbone.auth import Principal, requires
from backbone.idempotency import respond_once
from contracts.enums import Role, Severity
from contracts.permissions import Permission
from triage.domain.escalation import Level
from triage.handlers import escalation_policy as handlers
from triage.views import escalation_policy as views

router = APIRouter(prefix="/v1", tags=["escalation"])

Viewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]
Manager = Annotated[Principal, requires(Permission.ESCALATION_POLICIES_MANAGE)]


class LevelIn(BaseModel):
    user_ids: list[UUID] = Field(default=[], max_length=50, description="Users this level pages.")
    roles: list[Role] = Field(default=[], max_length=10, description="Roles this level pages.")
    delay_minutes: int = Field(
        ge=1,
        le=7 * 24 * 60,
        description="How long to wait for an acknowledgement before paging the next level.",
    )


class PolicyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    client_id: UUID | None = Field(default=None, description="Only this client's incidents (else all).")
    min_severity: Severity | None = Field(
        default=None, description="Only incidents at least this severe, e.g. `P2` for P1 and P2."
    )
    levels: list[LevelIn] = Field(min_length=1, max_length=20)
    loops: int = Field(default=0, ge=0, le=20, description="Times to start again from level 1 (0: none).")

    def to_input(self) -> handlers.PolicyInput:
        return handlers.PolicyInput(
            name=self.name,
            levels=tuple(
                Level(tuple(lv.user_ids), tuple(r.value for r in lv.roles), lv.delay_minutes)
                for lv in self.levels
            ),
            loops=self.loops,
            client_id=self.client_id,
            min_severity=self.min_severity,
        )


class LevelOut(BaseModel):
    user_ids: list[UUID]
    roles: list[str]
    delay_minutes: int


class PolicyOut(BaseModel):
    id: UUID
    tenant_id: UUID
    name: str
    client_id: UUID | None
    min_severity: Severity | None
    levels: list[LevelOut]
    loops: int
    created_at: datetime
    updated_at: datetime


def _out(row: dict[str, Any]) -> PolicyOut:
    return PolicyOut.model_validate(row)


@router.post("/escalation-policies", status_code=status.HTTP_201_CREATED, response_model=PolicyOut)
async def create_policy(body: PolicyIn, request: Request, caller: Manager, uow: UowDep) -> JSONResponse:
    """Create an escalation policy: ordered levels, each paging users and/or roles and waiting
    `delay_minutes` for an acknowledgement before the next; after the last level it starts
    again `loops` times. Optionally only for one client and/or from a minimum severity; the
    most specific matching policy applies to a new incident.

    Needs `escalation_policies.manage`. 422 for no level, a delay under a minute, a level
    paging nobody, an unknown role, or a user not of this tenant. Accepts an Idempotency-Key.
    """

    async def work() -> tuple[int, PolicyOut]:
        return 201, _out(await handlers.create_policy(uow, caller, body.to_input()))

    return await respond_once(request, uow, f"{caller.tenant_id}/escalation-policies", work)


@router.get("/escalation-policies", response_model=list[PolicyOut])
async def list_policies(caller: Viewer, uow: UowDep) -> list[PolicyOut]:
    """The tenant's escalation policies by name. Needs `incidents.view`; a client contact sees
    only its client's policies."""
    return [_out(r) for r in await views.list_policies(uow, caller)]


@router.get("/escalation-policies/{policy_id}", response_model=PolicyOut)
async def get_policy(policy_id: UUID, caller: Viewer, uow: UowDep) -> PolicyOut:
    """One escalation policy. Needs `incidents.view`."""
    return _out(await views.get_policy(uow, caller, policy_id))


@router.put("/escalation-policies/{policy_id}", response_model=PolicyOut)
async def replace_policy(policy_id: UUID, body: PolicyIn, caller: Manager, uow: UowDep) -> PolicyOut:
    """Replace an escalation policy whole. Escalations already running keep the levels they
    started with. Needs `escalation_policies.manage`."""
    row = await handlers.replace_policy(uow, caller, policy_id, body.to_input())
    await uow.commit()
    return _out(row)


@router.delete("/escalation-policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(policy_id: UUID, caller: Manager, uow: UowDep) -> Response:
    """Delete an escalation policy; running escalations finish with their levels. Needs
    `escalation_policies.manage`."""
    await handlers.delete_policy(uow, caller, policy_id)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
