"""HTTP routes of vendors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import EmailStr, Field, field_validator

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from contracts.enums import (
    VendorStatus,
    VendorType,
)
from contracts.permissions import Permission
from directory.domain.contacts import normal_phone
from directory.entrypoints.deps import After, Limit, Out, committed, read_one, values_of
from directory.handlers import vendors as handlers
from directory.views import shared as views

router = APIRouter(prefix="/v1")


# --------------------------------------------------------------------------- vendors


class VendorIn(Strict):
    vendor_name: str = Field(min_length=1, max_length=200)
    vendor_email: EmailStr
    vendor_phone: str = Field(min_length=6, max_length=32)
    vendor_type: VendorType
    status: VendorStatus = VendorStatus.ACTIVE

    @field_validator("vendor_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normal_phone(value)


class VendorOut(Out):
    id: UUID
    tenant_id: UUID
    vendor_name: str
    vendor_email: str
    vendor_phone: str
    vendor_type: VendorType
    status: VendorStatus
    created_at: datetime


@router.post("/vendors", status_code=status.HTTP_201_CREATED, response_model=VendorOut, tags=["vendors"])
async def register_vendor(
    body: VendorIn, uow: UowDep, caller: Annotated[Principal, requires(Permission.VENDORS_REGISTER)]
) -> Any:
    """003 Register Vendor Information: vendor_name, vendor_email and vendor_phone each unique."""
    return await committed(uow, handlers.register_vendor(uow, caller, values_of(body)))


@router.get("/vendors", response_model=list[VendorOut], tags=["vendors"])
async def list_vendors(
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.VENDORS_VIEW)],
    after: After = None,
    limit: Limit = 100,
) -> Any:
    return await views.page(uow, caller, views.vendors, after=after, limit=limit)


read_one(router, "/vendors/{vendor_id}", views.vendors, "vendor", Permission.VENDORS_VIEW, VendorOut)
