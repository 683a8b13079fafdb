"""The event envelope: CloudEvents attributes around a typed payload (docs/architecture.md "Messages")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from uuid import UUID

import uuid_utils.compat
from pydantic import BaseModel, ConfigDict, Field

from contracts.topics import Topic


def new_id() -> UUID:
    """A UUIDv7: time-ordered, so ids sort by creation and index well."""
    return uuid_utils.compat.uuid7()  # the stdlib UUID type, made without a string round trip


def utcnow() -> datetime:
    return datetime.now(UTC)


class Actor(BaseModel):
    """Who caused the event; ``None`` fields mean the system itself."""

    model_config = ConfigDict(frozen=True)

    user_id: UUID | None = None
    role: str | None = None


SYSTEM = Actor()


class EventData(BaseModel):
    """Base of every event payload. Subclasses set the type name, the topic and the
    aggregate id field; they are registered by name so consumers can validate on receipt."""

    model_config = ConfigDict(extra="ignore")

    event_type: ClassVar[str]
    topic: ClassVar[Topic]
    subject_field: ClassVar[str]

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes plus the platform's extensions (lower-case, no separators,
    as CloudEvents requires for extension names)."""

    model_config = ConfigDict(extra="ignore")

    specversion: str = "1.0"
    id: UUID = Field(default_factory=new_id)
    type: str
    source: str
    time: datetime = Field(default_factory=utcnow)
    subject: str
    tenantid: UUID | None = None
    actor: Actor = SYSTEM
    correlationid: UUID | None = None
    causationid: UUID | None = None
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        data: EventData,
        *,
        source: str,
        tenant_id: UUID | None,
        actor: Actor = SYSTEM,
        caused_by: Envelope | None = None,
        correlation_id: UUID | None = None,
    ) -> Self:
        """Build the envelope of ``data``; an event caused by another inherits its correlation."""
        event_id = new_id()
        correlation = correlation_id or (caused_by.correlationid if caused_by else None) or event_id
        return cls(
            id=event_id,
            type=data.event_type,
            source=source,
            subject=data.subject(),
            tenantid=tenant_id,
            actor=actor,
            correlationid=correlation,
            causationid=caused_by.id if caused_by else None,
            data=data.model_dump(mode="json"),
        )

    @property
    def topic(self) -> Topic:
        return event_class(self.type).topic

    def payload(self) -> EventData:
        """The typed payload; raises KeyError for an unknown type, ValidationError for bad data."""
        return event_class(self.type).model_validate(self.data)


_REGISTRY: dict[str, type[EventData]] = {}


def event(cls: type[EventData]) -> type[EventData]:
    """Class decorator registering an event type under its versioned name."""
    name = cls.event_type
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"event type {name} defined twice")
    if not name.rsplit(".", 1)[-1].startswith("v"):
        raise ValueError(f"event type {name} must end in a version suffix like .v1")
    _REGISTRY[name] = cls
    return cls


def event_class(event_type: str) -> type[EventData]:
    return _REGISTRY[event_type]


def is_known(event_type: str) -> bool:
    return event_type in _REGISTRY


def known_event_types() -> dict[str, type[EventData]]:
    return dict(_REGISTRY)
