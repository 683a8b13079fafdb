"""HTTP routes of routing rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.idempotency import respond_once, user_scope
from backbone.problems import Unprocessable
from contracts.enums import Role, Severity
from notifications.entrypoints.deps import Manager
from notifications.handlers import rules as handlers
from notifications.views import rules as views

router = APIRouter(prefix="/v1")


class RuleIn(Strict):
    name: str = Field(default="", max_length=200)
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Routable event types, e.g. incident.created.v1, sla.breached.v1, or * for all.",
    )
    min_severity: Severity | None = Field(default=None, description="Only events at least this severe.")
    client_id: UUID | None = Field(default=None, description="Only events of this client.")
    channel_ids: list[UUID] = Field(min_length=1, max_length=50)
    user_ids: list[UUID] = Field(default=[], max_length=500, description="Email these users (their address).")
    roles: list[Role] = Field(
        default=[], max_length=20, description="Email every active user with these roles."
    )
    event_targets: bool = Field(
        default=False,
        description="Also the people the event names: the assignee (assigned/delegated) and the "
        "escalation's target users and roles.",
    )
    enabled: bool = True


class RuleChange(Strict):
    name: str | None = Field(default=None, max_length=200)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    min_severity: Severity | None = None
    client_id: UUID | None = None
    channel_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=50)
    user_ids: list[UUID] | None = Field(default=None, max_length=500)
    roles: list[Role] | None = Field(default=None, max_length=20)
    event_targets: bool | None = None
    enabled: bool | None = None


class RuleOut(BaseModel):
    id: UUID
    tenant_id: UUID
    name: str
    event_types: list[str]
    min_severity: Severity | None
    client_id: UUID | None
    channel_ids: list[UUID]
    user_ids: list[UUID]
    roles: list[str]
    event_targets: bool
    enabled: bool
    created_at: datetime
    updated_at: datetime


def _rule_values(body: BaseModel, *, unset: bool) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=unset)
    if "roles" in values and values["roles"] is not None:
        values["roles"] = [r.value if isinstance(r, Role) else r for r in values["roles"]]
    return values


@router.post("/rules", status_code=status.HTTP_201_CREATED, response_model=RuleOut, tags=["rules"])
async def create_rule(body: RuleIn, request: Request, uow: UowDep, caller: Manager) -> Any:
    """A routing rule: which events (types, minimum severity, client) go to which channels and
    people. Accepts `Idempotency-Key`."""

    async def work() -> tuple[int, Any]:
        row = await handlers.create_rule(uow, caller, _rule_values(body, unset=False))
        return 201, RuleOut.model_validate(row)

    return await respond_once(request, uow, user_scope(caller), work)


@router.get("/rules", response_model=list[RuleOut], tags=["rules"])
async def list_rules(uow: UowDep, caller: Manager) -> Any:
    return await views.list_rules(uow, caller)


@router.get("/rules/{rule_id}", response_model=RuleOut, tags=["rules"])
async def get_rule(rule_id: UUID, uow: UowDep, caller: Manager) -> Any:
    return await views.get_rule(uow, caller, rule_id)


@router.patch("/rules/{rule_id}", response_model=RuleOut, tags=["rules"])
async def update_rule(rule_id: UUID, body: RuleChange, uow: UowDep, caller: Manager) -> Any:
    changes = _rule_values(body, unset=True)
    for name, value in changes.items():
        if value is None and name not in ("min_severity", "client_id"):
            raise Unprocessable(f"{name}: may not be null", field=name)
    row = await handlers.update_rule(uow, caller, rule_id, changes)
    await uow.commit()
    return row


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["rules"])
async def delete_rule(rule_id: UUID, uow: UowDep, caller: Manager) -> None:
    """Retire a rule (kept disabled, so the audit trail still shows what it was)."""
    await handlers.delete_rule(uow, caller, rule_id)
    await uow.commit()
