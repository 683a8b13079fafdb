"""The facts the changes service's pre-checks read, published as directory and triage would
announce them: users, a component, incidents open or closed. For the service's integration
tests and the end-to-end tests that run it beside audit or notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from aiokafka import AIOKafkaProducer

from backbone.testing import publish
from contracts.enums import IncidentSource, Role, Severity, UserStatus
from contracts.envelope import EventData
from contracts.events import ComponentRegistered, IncidentCreated, IncidentStatusChanged, UserRegistered


def incident_created(
    incident_id: UUID,
    *,
    client_id: UUID | None = None,
    vendor_id: UUID | None = None,
    component_id: UUID | None = None,
    detected_at: datetime | None = None,
) -> IncidentCreated:
    return IncidentCreated(
        incident_id=incident_id,
        reference_code=f"INC-{str(incident_id)[-6:]}",
        title="database down",
        severity=Severity.P2,
        status="open",
        client_id=client_id,
        vendor_id=vendor_id,
        component_id=component_id,
        severity_flags={},
        source=IncidentSource.MANUAL,
        detected_at=detected_at or datetime.now(UTC),
    )


def incident_closed(created: IncidentCreated) -> IncidentStatusChanged:
    """The same incident once closed (a post-incident review needs one)."""
    headline = created.model_dump(
        include={
            "incident_id",
            "reference_code",
            "title",
            "severity",
            "client_id",
            "vendor_id",
            "component_id",
        }
    )
    return IncidentStatusChanged(**headline, status="closed", from_status="resolved", to_status="closed")


class World:
    """Publishes one tenant's facts to the session's topics."""

    def __init__(self, producer: AIOKafkaProducer, topic_prefix: str) -> None:
        self.producer = producer
        self.topic_prefix = topic_prefix

    async def user(
        self,
        tenant_id: UUID,
        user_id: UUID,
        role: Role,
        *,
        active: bool = True,
        client_id: UUID | None = None,
        vendor_id: UUID | None = None,
        name: str = "user",
    ) -> None:
        user = UserRegistered(
            user_id=user_id,
            tenant_id=tenant_id,
            role=role,
            status=UserStatus.ACTIVE if active else UserStatus.INACTIVE,
            client_id=client_id,
            vendor_id=vendor_id,
            name=name,
        )
        await self._publish(user, tenant_id, "directory")

    async def component(
        self,
        tenant_id: UUID,
        component_id: UUID,
        client_id: UUID,
        *,
        vendor_id: UUID | None = None,
    ) -> None:
        component = ComponentRegistered(
            component_id=component_id,
            tenant_id=tenant_id,
            client_id=client_id,
            vendor_id=vendor_id,
            name="db",
        )
        await self._publish(component, tenant_id, "directory")

    async def _publish(self, data: EventData, tenant_id: UUID, source: str) -> None:
        await publish(self.producer, self.topic_prefix, data, tenant_id=tenant_id, source=source)

    async def incident(self, tenant_id: UUID, created: IncidentCreated, *, closed: bool = False) -> None:
        await self._publish(created, tenant_id, "triage")
        if closed:
            await self._publish(incident_closed(created), tenant_id, "triage")
