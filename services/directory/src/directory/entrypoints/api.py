"""HTTP API of the directory service: translates requests into commands."""

from uuid import UUID

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from backbone.app import UowDep
from directory import handlers

router = APIRouter(prefix="/v1", tags=["directory"])


class BootstrapRequest(BaseModel):
    slug: str = Field(default="default", max_length=63, examples=["acme"])
    name: str = Field(default="Default tenant", min_length=1, max_length=200)
    admin_email: str = Field(default="admin@localhost", max_length=320)


class BootstrapResponse(BaseModel):
    tenant_id: UUID
    tenant_slug: str
    user_id: UUID
    api_key: str = Field(description="Shown once; store it safely.")


@router.post("/bootstrap", status_code=status.HTTP_201_CREATED, response_model=BootstrapResponse)
async def bootstrap(body: BootstrapRequest, uow: UowDep) -> BootstrapResponse:
    """Create the first tenant and its admin API key. Works only on an empty system (409 after)."""
    result = await handlers.bootstrap(uow, slug=body.slug, name=body.name, admin_email=body.admin_email)
    await uow.commit()
    return BootstrapResponse(
        tenant_id=result.tenant_id,
        tenant_slug=result.tenant_slug,
        user_id=result.user_id,
        api_key=result.api_key,
    )
