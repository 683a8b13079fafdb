"""HTTP API of the directory service: translates requests into commands (handlers/) and
reads (views.py). Field names follow the procedures of 003. API keys and integrations have
their own routes (entrypoints/api_keys.py, entrypoints/integrations.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from backbone.app import Strict, UowDep
from backbone.auth import Caller, Principal, TokenSigner, requires
from backbone.problems import Problem, Unprocessable
from contracts.enums import (
    ClientStatus,
    ClientType,
    Role,
    SubscriptionTier,
    UserStatus,
    VendorStatus,
    VendorType,
)
from contracts.permissions import Permission
from directory import handlers, views
from directory.domain.contacts import normal_phone
from directory.handlers import api_keys

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
After = Annotated[UUID | None, Query(description="Cursor: the last id of the previous page.")]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _signer(request: Request) -> TokenSigner:
    signer: TokenSigner | None = request.app.state.signer
    if signer is None:
        raise Problem(
            "token signing is not configured (DIRECTORY_SIGNING_KEY)", status=503, title="Unavailable"
        )
    return signer


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
    result = await handlers.bootstrap(uow, slug=body.slug, name=body.name, admin_email=body.admin_email)
    await uow.commit()
    return result.__dict__


class TenantRequest(Strict):
    slug: str = Field(max_length=63, examples=["acme"])
    name: str = Field(min_length=1, max_length=200)
    admin_email: EmailStr = "admin@example.com"


@router.post(
    "/tenants", status_code=status.HTTP_201_CREATED, response_model=TenantCreatedOut, tags=["tenants"]
)
async def create_tenant(body: TenantRequest, uow: UowDep, caller: Caller) -> Any:
    """Another tenant with its own administrator (platform operators only)."""
    result = await handlers.create_tenant(
        uow, caller, slug=body.slug, name=body.name, admin_email=body.admin_email
    )
    await uow.commit()
    return result.__dict__


# --------------------------------------------------------------------------- auth


class TokenRequest(Strict):
    api_key: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


@router.post("/auth/token", response_model=TokenOut, tags=["auth"])
async def token(body: TokenRequest, request: Request, uow: UowDep) -> Any:
    """Exchange an API key for a short-lived signed access token (JWT, EdDSA)."""
    signer = _signer(request)
    access = await api_keys.exchange_api_key(uow, signer, body.api_key)
    return {"access_token": access, "expires_in": signer.ttl_s}


@router.get("/auth/jwks", tags=["auth"])
async def jwks(request: Request) -> dict[str, Any]:
    """The public key(s) tokens are signed with (RFC 7517), for verifiers outside the platform."""
    return _signer(request).jwks()


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


def _changes(body: BaseModel, nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields the caller sent; null only where null means "clear it"."""
    sent = body.model_dump(exclude_unset=True, mode="python")
    for field, value in sent.items():
        if value is None and field not in nullable:
            raise Unprocessable(f"{field}: may not be null", field=field)
    return {k: (v.value if hasattr(v, "value") else v) for k, v in sent.items()}


def _values(body: BaseModel) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in body.model_dump(mode="python").items()}


@router.post("/clients", status_code=status.HTTP_201_CREATED, response_model=ClientOut, tags=["clients"])
async def onboard_client(
    body: ClientIn, uow: UowDep, caller: Annotated[Principal, requires(Permission.CLIENTS_ONBOARD)]
) -> Any:
    """003 Client Onboarding: registration_number and contact_email unique; status defaults to active."""
    row = await handlers.onboard_client(uow, caller, _values(body))
    await uow.commit()
    return row


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


@router.get("/clients/{client_id}", response_model=ClientOut, tags=["clients"])
async def get_client(
    client_id: UUID, uow: UowDep, caller: Annotated[Principal, requires(Permission.CLIENTS_VIEW)]
) -> Any:
    return await views.one(uow, caller, views.clients, client_id, "client")


@router.patch("/clients/{client_id}", response_model=ClientOut, tags=["clients"])
async def update_client(
    client_id: UUID,
    body: ClientChange,
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.CLIENTS_UPDATE)],
) -> Any:
    """003 Client Information Update: system administrators, or the client's account manager."""
    row = await handlers.update_client(
        uow, caller, client_id, _changes(body, nullable=("country", "industry", "account_manager_id"))
    )
    await uow.commit()
    return row


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
    row = await handlers.set_subscription(uow, caller, client_id, _values(body))
    await uow.commit()
    return row


@router.get("/clients/{client_id}/subscription", response_model=SubscriptionOut, tags=["clients"])
async def get_subscription(
    client_id: UUID, uow: UowDep, caller: Annotated[Principal, requires(Permission.CLIENTS_VIEW)]
) -> Any:
    return await views.one(uow, caller, views.subscriptions, client_id, "subscription for client")


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
    row = await handlers.register_vendor(uow, caller, _values(body))
    await uow.commit()
    return row


@router.get("/vendors", response_model=list[VendorOut], tags=["vendors"])
async def list_vendors(
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.VENDORS_VIEW)],
    after: After = None,
    limit: Limit = 100,
) -> Any:
    return await views.page(uow, caller, views.vendors, after=after, limit=limit)


@router.get("/vendors/{vendor_id}", response_model=VendorOut, tags=["vendors"])
async def get_vendor(
    vendor_id: UUID, uow: UowDep, caller: Annotated[Principal, requires(Permission.VENDORS_VIEW)]
) -> Any:
    return await views.one(uow, caller, views.vendors, vendor_id, "vendor")


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
    row = await handlers.register_user(uow, caller, _values(body))
    await uow.commit()
    return row


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


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
async def get_user(
    user_id: UUID, uow: UowDep, caller: Annotated[Principal, requires(Permission.USERS_VIEW)]
) -> Any:
    return await views.one(uow, caller, views.users, user_id, "user")


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
async def update_user(
    user_id: UUID,
    body: UserChange,
    uow: UowDep,
    caller: Annotated[Principal, requires(Permission.USERS_UPDATE)],
) -> Any:
    """003 Update User Details: role (validated), status, links and details. A user set to
    inactive or suspended is refused by every service within seconds."""
    row = await handlers.update_user(
        uow, caller, user_id, _changes(body, nullable=("department", "client_id", "vendor_id"))
    )
    await uow.commit()
    return row


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
    row = await handlers.register_component(uow, caller, _values(body))
    await uow.commit()
    return row


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


@router.get("/components/{component_id}", response_model=ComponentOut, tags=["components"])
async def get_component(
    component_id: UUID, uow: UowDep, caller: Annotated[Principal, requires(Permission.COMPONENTS_VIEW)]
) -> Any:
    return await views.one(uow, caller, views.components, component_id, "component")
