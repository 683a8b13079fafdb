"""HTTP routes of business calendars (docs/sla.md "Calendars"): the tenant's default and each
client's own. Reading needs `sla.view`, editing `sla.manage`; a client must be the tenant's."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from contracts.permissions import Permission
from sla.domain.calendar import MAX_HOLIDAYS
from sla.handlers import calendar as handlers
from sla.views import calendar as views

router = APIRouter(prefix="/v1", tags=["calendars"])

Viewer = Annotated[Principal, requires(Permission.SLA_VIEW)]
Manager = Annotated[Principal, requires(Permission.SLA_MANAGE)]


# ["HH:MM", "HH:MM"]; at most a working interval per half hour of a day.
Pair = Annotated[list[Annotated[str, Field(max_length=5)]], Field(min_length=2, max_length=2)]
DayHours = Annotated[list[Pair], Field(max_length=48)]


class CalendarIn(Strict):
    time_zone: str = Field(max_length=64, description="IANA zone, e.g. `Europe/Berlin`.")
    hours: dict[str, DayHours] = Field(
        description='Working intervals per day `mon`..`sun` in the zone\'s wall time, e.g. `{"mon": '
        '[["09:00", "12:00"], ["13:00", "17:00"]], "sun": []}`; `24:00` ends at midnight. A '
        "missing day has none.",
        max_length=7,
    )
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(
        default=[], max_length=MAX_HOLIDAYS, description="Days off, `YYYY-MM-DD`, local dates in the zone."
    )
    holiday_country: str | None = Field(
        default=None, max_length=3, description="ISO 3166-1 alpha-2 code: that country's public holidays too."
    )
    holiday_subdivision: str | None = Field(
        default=None, max_length=40, description="A subdivision of the country (e.g. `BY` for Bavaria)."
    )


class CalendarOut(BaseModel):
    time_zone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str]
    holiday_country: str | None
    holiday_subdivision: str | None
    source: Literal["client", "tenant", "built_in"] = Field(
        description="Where the calendar in force comes from: the client's own, the tenant's "
        "default, or the built-in Mon-Fri 09:00-17:00 UTC."
    )


@router.get("/calendars/default", response_model=CalendarOut)
async def get_default_calendar(caller: Viewer, uow: UowDep) -> Any:
    """The tenant's default calendar (the built-in Mon-Fri 09:00-17:00 UTC until set)."""
    return await views.default_calendar(uow.session, caller.tenant_id)


@router.put("/calendars/default", response_model=CalendarOut)
async def put_default_calendar(body: CalendarIn, caller: Manager, uow: UowDep) -> Any:
    """Set the tenant's default calendar: clients without their own use it. Clocks already
    running keep their deadlines. 422 for a bad zone, time, overlapping intervals, an unknown
    day, a week without working time, or an unknown holiday country or subdivision."""
    calendar = await handlers.put_calendar(uow, caller, None, body.model_dump())
    await uow.commit()
    return views.shape(calendar, "tenant")


@router.get("/clients/{client_id}/calendar", response_model=CalendarOut)
async def get_client_calendar(client_id: UUID, caller: Viewer, uow: UowDep) -> Any:
    """The calendar the client's clocks run on: its own, else the tenant's default (`source`
    says which). 404 for a client this tenant does not have."""
    return await views.client_calendar(uow.session, caller.tenant_id, client_id)


@router.put("/clients/{client_id}/calendar", response_model=CalendarOut)
async def put_client_calendar(client_id: UUID, body: CalendarIn, caller: Manager, uow: UowDep) -> Any:
    """Give the client its own calendar (its time zone, hours and holidays)."""
    calendar = await handlers.put_calendar(uow, caller, client_id, body.model_dump())
    await uow.commit()
    return views.shape(calendar, "client")


@router.delete("/clients/{client_id}/calendar", status_code=status.HTTP_204_NO_CONTENT)
async def delete_client_calendar(client_id: UUID, caller: Manager, uow: UowDep) -> Response:
    """Remove the client's own calendar: the tenant's default applies again. 204 also when it
    had none; 404 for a client this tenant does not have."""
    await handlers.delete_calendar(uow, caller, client_id)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
