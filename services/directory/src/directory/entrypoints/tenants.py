"""HTTP routes of tenants: the bootstrap of the first one, and creating others."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, EmailStr, Field

from backbone.app import Strict, UowDep
from backbone.auth import Caller
from directory.entrypoints.deps import committed
from directory.handlers import tenants as handlers

router = APIRouter(prefix="/v1")


# --------------------------------------------------------------------------- bootstrap, tenants


class BootstrapRequest(Strict):
    slug: str = Field(default="default", max_length=63, examples=["acme"])
    name: str = Field(default="Default tenant", min_length=1, max_length=200)
    admin_email: EmailStr = "admin@example.com"


class TenantCreatedOut(BaseModel):
    tenant_id: UUID
    tenant_slug: str
    user_id: UUID
    api_key: str = Field(description="Shown once; store it safely.")


@router.post(
    "/bootstrap", status_code=status.HTTP_201_CREATED, response_model=TenantCreatedOut, tags=["tenants"]
)
async def bootstrap(body: BootstrapRequest, uow: UowDep) -> Any:
    """Create the first tenant and its admin API key. Works only on an empty system (409 after)."""
    return (
        await committed(
            uow, handlers.bootstrap(uow, slug=body.slug, name=body.name, admin_email=body.admin_email)
        )
    ).__dict__


class TenantRequest(Strict):
    slug: str = Field(max_length=63, examples=["acme"])
    name: str = Field(min_length=1, max_length=200)
    admin_email: EmailStr = "admin@example.com"


@router.post(
    "/tenants", status_code=status.HTTP_201_CREATED, response_model=TenantCreatedOut, tags=["tenants"]
)
async def create_tenant(body: TenantRequest, uow: UowDep, caller: Caller) -> Any:
    """Another tenant with its own administrator (platform operators only)."""
    return (
        await committed(
            uow,
            handlers.create_tenant(uow, caller, slug=body.slug, name=body.name, admin_email=body.admin_email),
        )
    ).__dict__
