"""Calendar commands (docs/sla.md "Calendars"): set the tenant's default, set or remove a
client's own. The caller's unit of work commits. A client must be this tenant's (known here by
its subscription); another tenant's client answers like an unknown one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.events import SlaCalendarChanged
from sla.adapters import calendar as calendars
from sla.adapters import subscription as subscriptions
from sla.domain.calendar import Calendar, CalendarError


def parse(definition: dict[str, Any]) -> Calendar:
    try:
        return Calendar.from_json(definition)
    except CalendarError as exc:
        raise Unprocessable(str(exc), field=exc.field) from None


async def own_client(uow: UnitOfWork, caller: Principal, client_id: UUID) -> None:
    if not await subscriptions.exists(uow.session, caller.tenant_id, client_id):
        raise NotFound(f"no client {client_id}")


def _announce(uow: UnitOfWork, caller: Principal, client_id: UUID | None, calendar: Calendar | None) -> None:
    uow.emit(
        SlaCalendarChanged(
            scope="default" if client_id is None else str(client_id),
            client_id=client_id,
            definition=None if calendar is None else calendar.to_json(),
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


async def put_calendar(
    uow: UnitOfWork, caller: Principal, client_id: UUID | None, definition: dict[str, Any]
) -> Calendar:
    """Set the tenant's default (``client_id`` None) or a client's own calendar."""
    calendar = parse(definition)
    if client_id is not None:
        await own_client(uow, caller, client_id)
    await calendars.put(uow.session, caller.tenant_id, client_id, calendar, by=caller.user_id, at=uow.now)
    _announce(uow, caller, client_id, calendar)
    return calendar


async def delete_calendar(uow: UnitOfWork, caller: Principal, client_id: UUID) -> None:
    """The client's clocks use the tenant's default again; nothing to remove is no error."""
    await own_client(uow, caller, client_id)
    if await calendars.remove(uow.session, caller.tenant_id, client_id):
        _announce(uow, caller, client_id, None)
