"""Events of the directory service (topic ``directory.events``), keyed by the aggregate's id.

Registration and update events carry the aggregate's whole current state, not a diff, so a
replica in another service is an upsert of the newest event (order per key is kept by Kafka).
``changed`` names the fields an update touched, for the audit trail.
"""

import hashlib
from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel

from contracts.enums import (
    ClientStatus,
    ClientType,
    IntegrationKind,
    Role,
    SubscriptionTier,
    UserStatus,
    VendorStatus,
    VendorType,
)
from contracts.envelope import EventData, event
from contracts.events.intake import ImpactFacts
from contracts.topics import Topic


class DirectoryEvent(EventData):
    """Base of the events on ``directory.events`` (not an event type of its own)."""

    topic: ClassVar[Topic] = Topic.DIRECTORY_EVENTS


@event
class TenantCreated(DirectoryEvent):
    """A tenant (an operating company's isolated space) was created."""

    event_type: ClassVar[str] = "tenant.created.v1"
    subject_field: ClassVar[str] = "tenant_id"

    tenant_id: UUID
    slug: str
    name: str


class UserState(DirectoryEvent):
    subject_field: ClassVar[str] = "user_id"

    user_id: UUID
    tenant_id: UUID
    role: Role
    status: UserStatus = UserStatus.ACTIVE
    client_id: UUID | None = None
    vendor_id: UUID | None = None
    name: str = ""
    email: str = ""
    department: str | None = None
    timezone: str = "UTC"


@event
class UserRegistered(UserState):
    """A user account was registered (003 Register User Account)."""

    event_type: ClassVar[str] = "user.registered.v1"


@event
class UserUpdated(UserState):
    """A user's role, status or details changed (003 Update User Details); the whole state."""

    event_type: ClassVar[str] = "user.updated.v1"

    changed: list[str] = []


class ClientState(DirectoryEvent):
    subject_field: ClassVar[str] = "client_id"

    client_id: UUID
    tenant_id: UUID
    client_name: str
    registration_number: str
    contact_email: str
    client_type: ClientType
    status: ClientStatus = ClientStatus.ACTIVE
    country: str | None = None
    industry: str | None = None
    account_manager_id: UUID | None = None


@event
class ClientOnboarded(ClientState):
    """A client was onboarded (003 Client Onboarding)."""

    event_type: ClassVar[str] = "client.onboarded.v1"


@event
class ClientUpdated(ClientState):
    """A client's details or status changed (003 Client Information Update); the whole state."""

    event_type: ClassVar[str] = "client.updated.v1"

    changed: list[str] = []


@event
class SubscriptionChanged(DirectoryEvent):
    """A client's subscription was set or replaced; the SLA clocks follow its tier."""

    event_type: ClassVar[str] = "subscription.changed.v1"
    subject_field: ClassVar[str] = "client_id"

    client_id: UUID
    tenant_id: UUID
    tier: SubscriptionTier
    contractual_p1: bool = False
    valid_from: date
    valid_until: date | None = None


@event
class VendorRegistered(DirectoryEvent):
    """An external service provider was registered (003 Register Vendor Information)."""

    event_type: ClassVar[str] = "vendor.registered.v1"
    subject_field: ClassVar[str] = "vendor_id"

    vendor_id: UUID
    tenant_id: UUID
    vendor_name: str
    vendor_email: str
    vendor_phone: str
    vendor_type: VendorType
    status: VendorStatus = VendorStatus.ACTIVE


@event
class ComponentRegistered(DirectoryEvent):
    """An infrastructure component of a client (optionally run by a vendor) was registered."""

    event_type: ClassVar[str] = "component.registered.v1"
    subject_field: ClassVar[str] = "component_id"

    component_id: UUID
    tenant_id: UUID
    client_id: UUID
    vendor_id: UUID | None = None
    name: str
    component_type: str | None = None
    environment: str | None = None
    business_critical: bool = False


class LabelRule(BaseModel):
    """Maps an alert label to an impact fact: when ``label`` has one of ``values`` (any value
    if empty), the fact ``fact`` is set to ``to``."""

    label: str
    values: list[str] = []
    fact: str
    to: bool | int | str


def token_sha256(token: str) -> str:
    """How an integration token is fingerprinted: directory stores and sends this, intake looks
    alerts' bearer tokens up by it (hex SHA-256 of the UTF-8 bytes; tokens are high-entropy)."""
    return hashlib.sha256(token.encode()).hexdigest()


class IntegrationState(DirectoryEvent):
    """An integration's whole current state. Carries the token's SHA-256 (never the token), so
    intake can authenticate alerts without calling directory."""

    subject_field: ClassVar[str] = "integration_id"

    integration_id: UUID
    tenant_id: UUID
    kind: IntegrationKind
    name: str
    client_id: UUID | None = None
    default_component_id: UUID | None = None
    impact_rules: list[LabelRule] = []
    default_impact: ImpactFacts = ImpactFacts()
    grouping_labels: list[str] = []
    # Resolve the incident once every alert of its dedup key has resolved (default on).
    auto_resolve: bool = True
    # Alerts per second PagerDuty-format and generic senders may send, and the burst allowed
    # above it (429 beyond); None: intake's defaults (INTAKE_ALERT_RATE_PER_S / _BURST).
    rate_limit_per_s: float | None = None
    rate_limit_burst: int | None = None
    token_sha256: str
    # Counts the integration's changes: a replica keeps the highest it has seen, so an old
    # state delivered again (a redriven dead letter) cannot bring back a rotated-away token.
    # 0: sent before revisions existed.
    revision: int = 0


@event
class IntegrationCreated(IntegrationState):
    """A monitoring integration was created."""

    event_type: ClassVar[str] = "integration.created.v1"


@event
class IntegrationUpdated(IntegrationState):
    """An integration's name, links, rules, grouping or limits changed; the whole state."""

    event_type: ClassVar[str] = "integration.updated.v1"

    changed: list[str] = []


@event
class IntegrationTokenRotated(IntegrationState):
    """An integration got a new token; the old one is refused from now on. The whole state,
    with the new token's SHA-256."""

    event_type: ClassVar[str] = "integration.token_rotated.v1"


@event
class IntegrationDeleted(DirectoryEvent):
    """An integration was deleted: its token is refused from now on."""

    event_type: ClassVar[str] = "integration.deleted.v1"
    subject_field: ClassVar[str] = "integration_id"

    integration_id: UUID
    tenant_id: UUID
    revision: int = 0


class ApiKeyEvent(DirectoryEvent):
    """Fields every API key event carries, keyed by the key's id."""

    subject_field: ClassVar[str] = "key_id"

    key_id: UUID
    tenant_id: UUID
    user_id: UUID
    prefix: str


@event
class ApiKeyIssued(ApiKeyEvent):
    """An API key was issued to a user (the key itself is shown once and never sent)."""

    event_type: ClassVar[str] = "api_key.issued.v1"


@event
class ApiKeyRevoked(ApiKeyEvent):
    """An API key was revoked (by its owner, by someone who manages the owner's keys, or by a
    rotation, which names the key that replaced it); it buys no new access token."""

    event_type: ClassVar[str] = "api_key.revoked.v1"
    replaced_by: UUID | None = None
