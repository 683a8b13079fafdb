"""HTTP routes of users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import EmailStr, Field, field_validator

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from contracts.enums import (
    Role,
    UserStatus,
)
from contracts.permissions import Permission
from directory.entrypoints.deps import After, Limit, Out, change_one, committed, read_one, values_of
from directory.handlers import users as handlers
from directory.views import shared as views

router = APIRouter(prefix="/v1")


# --------------------------------------------------------------------------- users


class UserIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: Role
    department: str | None = Field(default=None, max_length=100)
    client_id: UUID | None = None
    vendor_id: UUID | None = None
    timezone: str = Field(default="UTC", max_length=64)
    status: UserStatus = UserStatus.ACTIVE

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)


class UserChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None
    role: Role | None = None
    status: UserStatus | None = None
    department: str | None = Field(default=None, max_length=100)
    client_id: UUID | None = None
    vendor_id: UUID | None = None
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return _check_timezone(value) if value is not None else None


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


class UserOut(Out):
    id: UUID
    tenant_id: UUID
    name: str
    email: str
    role: Role
    status: UserStatus
    department: str | None
    client_id: UUID | None
    vendor_id: UUID | None
    timezone: str
    created_at: datetime
    updated_at: datetime


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["users"])
async def register_user(
    body: UserIn, uow: UowDep, caller: Annotated[Principal, requires(Permission.USERS_REGISTER)]
) -> Any:
    """003 Register User Account: email unique; client/vendor must exist; timezone UTC and status
    active by default."""
    return await committed(uow, handlers.register_user(uow, caller, values_of(body)))


@router.get("/users", response_model=list[UserOut], tags=["users"])
async def list_users(
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.USERS_VIEW)],
    after: After = None,
    limit: Limit = 100,
    role: Role | None = None,
    status_: Annotated[UserStatus | None, Query(alias="status")] = None,
    client_id: UUID | None = None,
    vendor_id: UUID | None = None,
) -> Any:
    return await views.page(
        uow,
        caller,
        views.users,
        after=after,
        limit=limit,
        role=role.value if role else None,
        status=status_.value if status_ else None,
        client_id=client_id,
        vendor_id=vendor_id,
    )


read_one(router, "/users/{user_id}", views.users, "user", Permission.USERS_VIEW, UserOut)


change_one(
    router,
    "/users/{user_id}",
    handlers.update_user,
    Permission.USERS_UPDATE,
    UserChange,
    UserOut,
    ("department", "client_id", "vendor_id"),
    """003 Update User Details: role (validated), status, links and details. A user set to
    inactive or suspended is refused by every service within seconds.""",
)
