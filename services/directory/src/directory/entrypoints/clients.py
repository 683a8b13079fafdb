"""HTTP routes of clients and their subscriptions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import EmailStr, Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from contracts.enums import (
    ClientStatus,
    ClientType,
    SubscriptionTier,
)
from contracts.permissions import Permission
from directory.entrypoints.deps import After, Limit, Out, change_one, committed, read_one, values_of
from directory.handlers import clients as handlers
from directory.views import shared as views

router = APIRouter(prefix="/v1")


# --------------------------------------------------------------------------- clients


class ClientIn(Strict):
    client_name: str = Field(min_length=1, max_length=200)
    registration_number: str = Field(min_length=1, max_length=100)
    contact_email: EmailStr
    client_type: ClientType
    country: str | None = Field(default=None, max_length=100)
    industry: str | None = Field(default=None, max_length=100)
    status: ClientStatus = ClientStatus.ACTIVE
    account_manager_id: UUID | None = None


class ClientChange(Strict):
    client_name: str | None = Field(default=None, min_length=1, max_length=200)
    registration_number: str | None = Field(default=None, min_length=1, max_length=100)
    contact_email: EmailStr | None = None
    client_type: ClientType | None = None
    country: str | None = Field(default=None, max_length=100)
    industry: str | None = Field(default=None, max_length=100)
    status: ClientStatus | None = None
    account_manager_id: UUID | None = None


class ClientOut(Out):
    id: UUID
    tenant_id: UUID
    client_name: str
    registration_number: str
    contact_email: str
    client_type: ClientType
    country: str | None
    industry: str | None
    status: ClientStatus
    account_manager_id: UUID | None
    created_at: datetime
    updated_at: datetime


@router.post("/clients", status_code=status.HTTP_201_CREATED, response_model=ClientOut, tags=["clients"])
async def onboard_client(
    body: ClientIn, uow: UowDep, caller: Annotated[Principal, requires(Permission.CLIENTS_ONBOARD)]
) -> Any:
    """003 Client Onboarding: registration_number and contact_email unique; status defaults to active."""
    return await committed(uow, handlers.onboard_client(uow, caller, values_of(body)))


@router.get("/clients", response_model=list[ClientOut], tags=["clients"])
async def list_clients(
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.CLIENTS_VIEW)],
    after: After = None,
    limit: Limit = 100,
    status_: Annotated[ClientStatus | None, Query(alias="status")] = None,
    client_type: ClientType | None = None,
) -> Any:
    return await views.page(
        uow,
        caller,
        views.clients,
        after=after,
        limit=limit,
        status=status_.value if status_ else None,
        client_type=client_type.value if client_type else None,
    )


read_one(router, "/clients/{client_id}", views.clients, "client", Permission.CLIENTS_VIEW, ClientOut)


change_one(
    router,
    "/clients/{client_id}",
    handlers.update_client,
    Permission.CLIENTS_UPDATE,
    ClientChange,
    ClientOut,
    ("country", "industry", "account_manager_id"),
    """003 Client Information Update: system administrators, or the client's account manager.""",
)


class SubscriptionIn(Strict):
    tier: SubscriptionTier
    contractual_p1: bool = Field(default=False, description="The contract demands P1 handling (001 P1 rule).")
    valid_from: date | None = Field(default=None, description="Default: today.")
    valid_until: date | None = None


class SubscriptionOut(Out):
    client_id: UUID
    tenant_id: UUID
    tier: SubscriptionTier
    contractual_p1: bool
    valid_from: date
    valid_until: date | None
    updated_at: datetime


@router.post(
    "/clients/{client_id}/subscription",
    status_code=status.HTTP_201_CREATED,
    response_model=SubscriptionOut,
    tags=["clients"],
)
async def set_subscription(
    client_id: UUID,
    body: SubscriptionIn,
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.SUBSCRIPTIONS_MANAGE)],
) -> Any:
    """Set or replace the client's subscription; the SLA targets follow its tier."""
    return await committed(uow, handlers.set_subscription(uow, caller, client_id, values_of(body)))


read_one(
    router,
    "/clients/{client_id}/subscription",
    views.subscriptions,
    "subscription for client",
    Permission.CLIENTS_VIEW,
    SubscriptionOut,
)
