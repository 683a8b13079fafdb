"""HTTP routes of the clocks (docs/sla.md "Clocks", "Pause", "Extensions") and their Kafka
subscriptions."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from backbone.auth import Principal, requires
from backbone.consumer import Handler, batched
from backbone.idempotency import respond_once, user_scope
from backbone.rows import get_or_404
from backbone.timers import TimerLoop
from contracts.enums import SlaClockKind, SubscriptionTier
from contracts.events import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentDelegated,
    IncidentDeleted,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTriaged,
    IncidentUpdated,
    SubscriptionChanged,
)
from contracts.events import sla as sla_events
from contracts.permissions import Permission
from sla.adapters import clock as store
from sla.adapters.orm import incidents
from sla.config import Settings
from sla.handlers.clock import DEFAULT_TIER, Clocks
from sla.handlers.incident import replicate_incidents
from sla.handlers.subscription import replicate_subscriptions
from sla.views import clock as views

router = APIRouter(prefix="/v1", tags=["sla clocks"])

Viewer = Annotated[Principal, requires(Permission.SLA_VIEW)]
# One incident's SLA is part of the incident: whoever may see the incident sees its clocks
# (contacts only their own client's or vendor's; docs/permissions.md).
IncidentViewer = Annotated[Principal, requires(Permission.INCIDENTS_VIEW)]
Manager = Annotated[Principal, requires(Permission.SLA_MANAGE)]
Extender = Annotated[Principal, requires(Permission.SLA_EXTEND)]

PUBLISHES = (
    sla_events.SlaClockStarted,
    sla_events.SlaClockStopped,
    sla_events.SlaClockPaused,
    sla_events.SlaClockResumed,
    sla_events.SlaClockExtended,
    sla_events.SlaClockRetargeted,
    sla_events.SlaAtRisk,
    sla_events.SlaBreached,
)

# Incident events after creation that move clocks (the replica takes each first).
FOLLOWED = (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentDelegated,
    IncidentStatusChanged,
    IncidentTriaged,
    IncidentUpdated,
    IncidentResolved,
    IncidentReopened,
    IncidentClosed,
    IncidentDeleted,
)


def consumers(clocks: Clocks) -> dict[str, Handler | list[Handler]]:
    follow = batched(clocks.follow)
    replicate = batched(replicate_incidents)
    return {
        IncidentCreated.event_type: [replicate, batched(clocks.start)],
        **{cls.event_type: [replicate, follow] for cls in FOLLOWED},
        SubscriptionChanged.event_type: [batched(replicate_subscriptions), batched(clocks.retier)],
    }


def timer_loop(settings: Settings, clocks: Clocks) -> TimerLoop:
    """Warnings and breaches: any replica fires due rows; the alarm wakes the loop at the
    nearest due time it knows, the poll catches the rest (another replica's writes)."""
    loop = TimerLoop(
        "sla_clocks", clocks.fire_due, clock=clocks.clock, interval_s=settings.clock_poll_interval_s
    )
    clocks.alarm.wake = loop.wake
    return loop


# -- one incident --------------------------------------------------------------------------------


class ExtensionIn(Strict):
    clock: SlaClockKind
    minutes: int = Field(ge=1, le=366 * 24 * 60, description="Minutes of the clock's calendar.")
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/incidents/{incident_id}/sla")
async def get_incident_sla(incident_id: UUID, caller: IncidentViewer, uow: UowDep) -> dict[str, Any]:
    """The incident's response and resolution clocks, minutes on each clock's calendar.

    Needs `incidents.view`: every role, client and vendor contacts for their own client's or
    vendor's incidents only. Another tenant's incident, or one outside the caller's client or
    vendor, is 404."""
    return await views.incident_sla(uow.session, caller, incident_id, uow.now)


@router.post("/incidents/{incident_id}/sla/extensions", status_code=201)
async def extend_deadline(
    incident_id: UUID, body: ExtensionIn, request: Request, caller: Extender, uow: UowDep
) -> JSONResponse:
    """A deadline extension (004): the clock's warning and deadline move by `minutes` of its
    calendar; recorded on the clock and announced as `sla.clock_extended.v1`.

    Needs `sla.extend` (incident managers). 404 for an unknown incident or one without clocks;
    409 when the clock has stopped (met, breached and stopped, or cancelled)."""
    await get_or_404(uow.session, incidents, incident_id, caller.tenant_id, what="incident")

    async def work() -> tuple[int, Any]:
        clock = await request.app.state.sla_clocks.extend(
            uow,
            tenant_id=caller.tenant_id,
            incident_id=incident_id,
            kind=body.clock,
            minutes=body.minutes,
            reason=body.reason,
            actor=caller.actor,
        )
        return 201, await views.incident_sla(uow.session, caller, clock.incident_id, uow.now)

    return await respond_once(request, uow, user_scope(caller), work)


@router.get("/sla/clocks")
async def list_clocks(
    caller: Viewer,
    uow: UowDep,
    state: Annotated[Literal["running", "paused", "met", "breached", "cancelled"] | None, Query()] = None,
    at_risk: bool | None = None,
    client_id: UUID | None = None,
    cursor: Annotated[UUID | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Clocks of the tenant for dashboards, oldest first: {items, next_cursor}. Needs `sla.view`."""
    return await views.list_clocks(
        uow.session,
        caller,
        uow.now,
        state=state,
        at_risk=at_risk,
        client_id=client_id,
        after=cursor,
        limit=limit,
    )


# -- per-tenant settings -------------------------------------------------------------------------


class SettingsIn(Strict):
    pause_enabled: bool
    pause_statuses: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default=[], max_length=50
    )
    default_tier: SubscriptionTier = DEFAULT_TIER


class SettingsOut(BaseModel):
    pause_enabled: bool
    pause_statuses: list[str]
    default_tier: SubscriptionTier


@router.get("/sla/settings", response_model=SettingsOut)
async def get_settings(caller: Viewer, uow: UowDep) -> SettingsOut:
    """The tenant's clock settings (docs/sla.md "Pause"). Needs `sla.view`."""
    row = await store.settings_of(uow.session, caller.tenant_id)
    if row is None:
        return SettingsOut(pause_enabled=False, pause_statuses=[], default_tier=DEFAULT_TIER)
    return SettingsOut(
        pause_enabled=row.pause_enabled, pause_statuses=row.pause_statuses, default_tier=row.default_tier
    )


@router.put("/sla/settings", response_model=SettingsOut)
async def put_settings(body: SettingsIn, request: Request, caller: Manager, uow: UowDep) -> JSONResponse:
    """Which incident statuses pause the clocks (waiting on the client or a vendor), whether
    pausing is on, and the tier of incidents without a subscribed client. Applies to status
    changes from now on. Needs `sla.manage`."""
    statuses = sorted(set(body.pause_statuses))

    async def work() -> tuple[int, Any]:
        await store.put_settings(
            uow.session,
            caller.tenant_id,
            pause_enabled=body.pause_enabled,
            pause_statuses=statuses,
            default_tier=body.default_tier.value,
        )
        return 200, SettingsOut(
            pause_enabled=body.pause_enabled, pause_statuses=statuses, default_tier=body.default_tier
        )

    return await respond_once(request, uow, user_scope(caller), work)
