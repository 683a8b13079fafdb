"""What triage's handler tests share: callers, events as their owners would wrap them, incidents
opened through the reports handler, and the rows and events to assert on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from sqlalchemy import select

from backbone.auth import Principal, replicate_users
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, Role
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import IncidentReported, UserRegistered
from contracts.events.intake import ImpactFacts
from triage.adapters.orm import incident_updates, incidents
from triage.handlers.incident import open_incidents

E = TypeVar("E", bound=EventData)


def caller(tenant_id: UUID, *, role: Role = Role.INCIDENT_MANAGER, **links: Any) -> Principal:
    return Principal(user_id=uuid4(), tenant_id=tenant_id, role=role, **links)


def wrapped(data: E, tenant_id: UUID, source: str = "intake") -> tuple[Envelope, E]:
    return Envelope.wrap(data, source=source, tenant_id=tenant_id), data


def emitted(uow: UnitOfWork, event: type[E]) -> list[E]:
    """The events of that type the unit of work emitted, in order, as their payload class."""
    return [event.model_validate(e.data) for e in uow.emitted if e.type == event.event_type]


def types(uow: UnitOfWork) -> list[str]:
    return [e.type for e in uow.emitted]


def report(detected_at: datetime, *, impact: ImpactFacts | None = None, **values: Any) -> IncidentReported:
    return IncidentReported(
        incident_id=new_id(),
        source=IncidentSource.ALERTMANAGER if values.get("dedup_key") else IncidentSource.MANUAL,
        title=values.pop("title", "database down"),
        impact=impact or ImpactFacts(),
        detected_at=detected_at,
        **values,
    )


async def opened(uow: UnitOfWork, tenant_id: UUID, **values: Any) -> UUID:
    """An incident of the tenant, opened as intake's report would open it."""
    event = report(uow.now, **values)
    await open_incidents(uow, [wrapped(event, tenant_id)])
    return event.incident_id


async def user(uow: UnitOfWork, tenant_id: UUID, role: Role = Role.TECHNICAL_SUPPORT) -> UUID:
    """A user of the tenant in triage's users replica, as directory's event would leave it."""
    user_id = uuid4()
    await replicate_users(
        uow,
        [wrapped(UserRegistered(user_id=user_id, tenant_id=tenant_id, role=role), tenant_id, "directory")],
    )
    return user_id


async def row(uow: UnitOfWork, incident_id: UUID) -> dict[str, Any]:
    found = (
        (await uow.session.execute(select(incidents).where(incidents.c.id == incident_id))).mappings().one()
    )
    return dict(found)


async def records(uow: UnitOfWork, incident_id: UUID) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(incident_updates)
        .where(incident_updates.c.incident_id == incident_id)
        .order_by(incident_updates.c.changed_at, incident_updates.c.field)
    )
    return [dict(r) for r in rows.mappings()]
