"""HTTP routes of monitoring integrations: create, list, read, change, rotate the token, delete.
Every change reaches intake's replica as an event; a rotated-away or deleted token is refused
there (docs/adr/0004-directory-and-access.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from backbone.problems import Unprocessable
from contracts.enums import IntegrationKind
from contracts.events import ImpactFacts, LabelRule
from contracts.permissions import Permission
from directory.entrypoints.deps import After, Limit, Out, committed
from directory.handlers import integrations
from directory.views import shared as views

router = APIRouter(prefix="/v1/integrations", tags=["integrations"])
Manager = Annotated[Principal, requires(Permission.INTEGRATIONS_MANAGE)]


def _json(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-mode values (rules as plain dicts for the JSONB columns), ids back as UUIDs."""
    for key in ("client_id", "default_component_id"):
        if values.get(key) is not None:
            values[key] = UUID(values[key])
    return values


class IntegrationIn(Strict):
    kind: IntegrationKind
    name: str = Field(min_length=1, max_length=200)
    client_id: UUID | None = None
    default_component_id: UUID | None = None
    impact_rules: list[LabelRule] = Field(
        default_factory=list,
        max_length=100,
        description="Alert label → impact fact: when `label` has one of `values` (any if empty), "
        "the fact `fact` becomes `to`.",
    )
    default_impact: ImpactFacts = Field(default_factory=ImpactFacts)
    grouping_labels: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="One incident per distinct value set of these labels.",
    )
    auto_resolve: bool = Field(
        default=True, description="Resolve the incident once every alert of its dedup key has resolved."
    )
    rate_limit_per_s: float | None = Field(
        default=None,
        gt=0,
        le=100_000,
        description="Alerts per second accepted from Events v2 and generic senders (429 beyond); "
        "unset: intake's default.",
    )
    rate_limit_burst: int | None = Field(
        default=None, ge=1, le=1_000_000, description="Alerts accepted at once above the rate."
    )


class IntegrationOut(Out):
    id: UUID
    tenant_id: UUID
    kind: IntegrationKind
    name: str
    client_id: UUID | None
    default_component_id: UUID | None
    impact_rules: list[LabelRule]
    default_impact: ImpactFacts
    grouping_labels: list[str]
    auto_resolve: bool
    rate_limit_per_s: float | None
    rate_limit_burst: int | None
    token_prefix: str
    created_at: datetime


class IntegrationCreatedOut(IntegrationOut):
    token: str = Field(description="Shown once. Bearer token for alerts; for events_v2, the routing_key.")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IntegrationCreatedOut,
)
async def create_integration(body: IntegrationIn, uow: UowDep, caller: Manager) -> Any:
    """A monitoring integration (alertmanager, events_v2 or generic) and its token."""
    row, secret = await integrations.create_integration(
        uow, caller, _json(body.model_dump(mode="json", exclude_none=True))
    )
    await uow.commit()
    return {**row._mapping, "token": secret}


@router.get("", response_model=list[IntegrationOut])
async def list_integrations(
    uow: UowDep,
    caller: Manager,
    after: After = None,
    limit: Limit = 100,
) -> Any:
    return await views.page(uow, caller, views.integrations, after=after, limit=limit)


@router.get("/{integration_id}", response_model=IntegrationOut)
async def get_integration(integration_id: UUID, uow: UowDep, caller: Manager) -> Any:
    return await views.one(uow, caller, views.integrations, integration_id, "integration")


class IntegrationChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    client_id: UUID | None = None
    default_component_id: UUID | None = None
    impact_rules: list[LabelRule] | None = Field(default=None, max_length=100)
    default_impact: ImpactFacts | None = None
    grouping_labels: list[str] | None = Field(default=None, max_length=20)
    auto_resolve: bool | None = None
    rate_limit_per_s: float | None = Field(
        default=None, gt=0, le=100_000, description="null: intake's default."
    )
    rate_limit_burst: int | None = Field(
        default=None, ge=1, le=1_000_000, description="null: intake's default."
    )


NULLABLE = ("client_id", "default_component_id", "rate_limit_per_s", "rate_limit_burst")


@router.patch("/{integration_id}", response_model=IntegrationOut)
async def update_integration(
    integration_id: UUID, body: IntegrationChange, uow: UowDep, caller: Manager
) -> Any:
    """Change the given fields; the kind and the token stay. null clears the client, the
    default component and the rate limits."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    for field, value in changes.items():
        if value is None and field not in NULLABLE:
            raise Unprocessable(f"{field}: may not be null", field=field)
    return await committed(uow, integrations.update_integration(uow, caller, integration_id, _json(changes)))


class RotatedToken(BaseModel):
    id: UUID
    token_prefix: str
    token: str = Field(description="Shown once. The old token is refused from now on.")


@router.post("/{integration_id}/rotate-token", response_model=RotatedToken)
async def rotate_integration_token(integration_id: UUID, uow: UowDep, caller: Manager) -> Any:
    """A new token for the integration (for events_v2, a new routing_key), shown once; intake
    refuses the old one as soon as it has the change, within seconds."""
    row, secret = await integrations.rotate_integration_token(uow, caller, integration_id)
    await uow.commit()
    return {"id": row.id, "token_prefix": row.token_prefix, "token": secret}


@router.delete("/{integration_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_integration(integration_id: UUID, uow: UowDep, caller: Manager) -> None:
    """Delete the integration: its token is refused, its name may be used again; the record
    stays in the audit trail. A deleted integration answers 404."""
    await integrations.delete_integration(uow, caller, integration_id)
    await uow.commit()
