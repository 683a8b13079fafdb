"""HTTP routes of SLA policies (docs/sla.md "Policies"). Reading needs `sla.view`, editing
`sla.manage`; everything is the caller's tenant's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from contracts.enums import Severity, SubscriptionTier
from contracts.permissions import Permission
from sla.domain.policy import MAX_MINUTES
from sla.handlers import policy as handlers
from sla.views import policy as views

router = APIRouter(prefix="/v1", tags=["policies"])

Viewer = Annotated[Principal, requires(Permission.SLA_VIEW)]
Manager = Annotated[Principal, requires(Permission.SLA_MANAGE)]

Minutes = Annotated[int, Field(ge=1, le=MAX_MINUTES, description="Minutes counted on the policy's calendar.")]


class PolicyIn(Strict):
    calendar: Literal["24x7", "business_hours"] = Field(
        description="`24x7` counts every minute; `business_hours` the client's business time."
    )
    response_target_minutes: Minutes
    response_deadline_minutes: Minutes
    resolution_target_minutes: Minutes
    resolution_deadline_minutes: Minutes


class PolicyOut(BaseModel):
    tier: SubscriptionTier
    severity: Severity
    calendar: Literal["24x7", "business_hours"]
    response_target_minutes: int
    response_deadline_minutes: int
    resolution_target_minutes: int
    resolution_deadline_minutes: int


@router.get("/policies", response_model=list[PolicyOut])
async def list_policies(caller: Viewer, uow: UowDep) -> Any:
    """One entry per tier and severity (premium first, P1 first): the tenant's figures, seeded
    from the subscription tier table until edited. A clock warns at start + min(target, 80 % of
    deadline) and breaches at the deadline. Needs `sla.view`."""
    return await views.list_policies(uow.session, caller.tenant_id)


@router.put("/policies/{tier}/{severity}", response_model=PolicyOut)
async def put_policy(
    tier: SubscriptionTier, severity: Severity, body: PolicyIn, caller: Manager, uow: UowDep
) -> Any:
    """Replace one tier and severity's figures. Applies to clocks started after it; running
    clocks keep the figures they started with. Needs `sla.manage`. 422 when a target exceeds
    its deadline, a figure is under one minute, or the tier or severity is unknown."""
    policy = await handlers.put_policy(uow, caller, tier, severity, body.model_dump())
    await uow.commit()
    return views.shape(policy)
