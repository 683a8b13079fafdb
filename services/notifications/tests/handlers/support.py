"""What the handler tests share: callers, a secret box, and users and clients written through
the replicas' own handlers, as directory's events would leave them."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID, uuid4

from cryptography.fernet import Fernet

from backbone.auth import Principal, replicate_users
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, ClientType, Role, Severity, UserStatus
from contracts.envelope import Envelope, EventData
from contracts.events import ClientOnboarded, UserRegistered
from notifications.adapters.secrets import SecretBox
from notifications.domain.channels import Checks
from notifications.handlers.channels import create_channel
from notifications.handlers.replicas import replicate_clients, replicate_incidents, replicate_recipients
from notifications.testing import manual_incident

E = TypeVar("E", bound=EventData)

BOX = SecretBox(Fernet.generate_key().decode())
CHECKS = Checks()
WEBHOOK = {"url": "https://hooks.example.com/incidents", "secret": "whsec-handler-tier"}
LINK = "https://triage.example.com/v1/incidents/{incident_id}"


def caller(
    tenant_id: UUID | None = None, *, user_id: UUID | None = None, role: Role = Role.INCIDENT_MANAGER
) -> Principal:
    return Principal(user_id=user_id or uuid4(), tenant_id=tenant_id or uuid4(), role=role)


def emitted(uow: UnitOfWork, event: type[E]) -> list[E]:
    """The events of that type the unit of work emitted, in order, as their payload class."""
    return [event.model_validate(e.data) for e in uow.emitted if e.type == event.event_type]


def wrapped(data: EventData, tenant_id: UUID, source: str = "directory") -> tuple[Envelope, Any]:
    return Envelope.wrap(data, source=source, tenant_id=tenant_id), data


async def user(
    uow: UnitOfWork,
    tenant_id: UUID,
    *,
    role: Role = Role.INCIDENT_MANAGER,
    status: UserStatus = UserStatus.ACTIVE,
    email: str | None = None,
) -> UUID:
    """A user of the tenant, in the recipients and principals replicas."""
    user_id = uuid4()
    registered = UserRegistered(
        user_id=user_id,
        tenant_id=tenant_id,
        role=role,
        status=status,
        name="Ada",
        email=f"{user_id.hex[:8]}@example.com" if email is None else email,
    )
    await replicate_recipients(uow, [wrapped(registered, tenant_id)])
    await replicate_users(uow, [wrapped(registered, tenant_id)])
    return user_id


async def client(uow: UnitOfWork, tenant_id: UUID, name: str = "Globex") -> UUID:
    client_id = uuid4()
    onboarded = ClientOnboarded(
        client_id=client_id,
        tenant_id=tenant_id,
        client_name=name,
        registration_number="REG-1",
        contact_email="ops@globex.example",
        client_type=next(iter(ClientType)),
    )
    await replicate_clients(uow, [wrapped(onboarded, tenant_id)])
    return client_id


def incident_event(
    tenant_id: UUID,
    incident_id: UUID | None = None,
    *,
    status: str = "new",
    title: str = "disk full",
    client_id: UUID | None = None,
) -> tuple[Envelope, Any]:
    """incident.created.v1 as triage would send it."""
    created = manual_incident(
        incident_id or uuid4(), title=title, severity=Severity.P2, status=status, client_id=client_id
    )
    return wrapped(created, tenant_id, source="triage")


async def incident(uow: UnitOfWork, tenant_id: UUID, **kwargs: Any) -> UUID:
    """An incident in the replica; returns its id."""
    envelope, created = incident_event(tenant_id, **kwargs)
    await replicate_incidents(uow, [(envelope, created)])
    return UUID(str(created.incident_id))


async def webhook(uow: UnitOfWork, who: Principal, name: str = "hooks", client_id: UUID | None = None) -> Any:
    """A webhook channel of the caller's tenant, as shown."""
    return await create_channel(
        uow,
        who,
        BOX,
        CHECKS,
        kind=ChannelKind.WEBHOOK,
        name=name,
        config=WEBHOOK,
        client_id=client_id,
        enabled=True,
    )


async def webhook_channel(uow: UnitOfWork, who: Principal, name: str = "hooks") -> UUID:
    return UUID(str((await webhook(uow, who, name))["id"]))
