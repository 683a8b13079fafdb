"""HTTP routes of components."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from contracts.permissions import Permission
from directory.entrypoints.deps import After, Limit, Out, committed, read_one, values_of
from directory.handlers import components as handlers
from directory.views import shared as views

router = APIRouter(prefix="/v1")


# --------------------------------------------------------------------------- components


class ComponentIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    client_id: UUID
    vendor_id: UUID | None = None
    component_type: str | None = Field(default=None, max_length=60, examples=["database"])
    environment: str | None = Field(default=None, max_length=40, examples=["production"])
    business_critical: bool = False


class ComponentOut(Out):
    id: UUID
    tenant_id: UUID
    name: str
    client_id: UUID
    vendor_id: UUID | None
    component_type: str | None
    environment: str | None
    business_critical: bool
    created_at: datetime


@router.post(
    "/components", status_code=status.HTTP_201_CREATED, response_model=ComponentOut, tags=["components"]
)
async def register_component(
    body: ComponentIn, uow: UowDep, caller: Annotated[Principal, requires(Permission.COMPONENTS_MANAGE)]
) -> Any:
    """An infrastructure component of a client (name unique per client), optionally run by a vendor."""
    return await committed(uow, handlers.register_component(uow, caller, values_of(body)))


@router.get("/components", response_model=list[ComponentOut], tags=["components"])
async def list_components(
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.COMPONENTS_VIEW)],
    after: After = None,
    limit: Limit = 100,
    client_id: UUID | None = None,
    vendor_id: UUID | None = None,
) -> Any:
    return await views.page(
        uow, caller, views.components, after=after, limit=limit, client_id=client_id, vendor_id=vendor_id
    )


read_one(
    router,
    "/components/{component_id}",
    views.components,
    "component",
    Permission.COMPONENTS_VIEW,
    ComponentOut,
)
