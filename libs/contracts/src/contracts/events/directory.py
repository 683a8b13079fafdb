"""Events of the directory service (topic ``directory.events``)."""

from typing import ClassVar
from uuid import UUID

from contracts.enums import Role
from contracts.envelope import EventData, event
from contracts.topics import Topic


@event
class TenantCreated(EventData):
    event_type: ClassVar[str] = "tenant.created.v1"
    topic: ClassVar[Topic] = Topic.DIRECTORY_EVENTS
    subject_field: ClassVar[str] = "tenant_id"

    tenant_id: UUID
    slug: str
    name: str


@event
class UserRegistered(EventData):
    event_type: ClassVar[str] = "user.registered.v1"
    topic: ClassVar[Topic] = Topic.DIRECTORY_EVENTS
    subject_field: ClassVar[str] = "user_id"

    user_id: UUID
    tenant_id: UUID
    role: Role
    status: str = "active"
    client_id: UUID | None = None
    vendor_id: UUID | None = None
