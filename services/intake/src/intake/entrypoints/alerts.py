"""HTTP API of the intake service for alerts: translates Alertmanager webhooks, PagerDuty Events
v2 and generic alerts into commands (docs/intake.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.exc import DBAPIError

from backbone.app import RuntimeDep, UowDep
from backbone.idempotency import HEADER as IDEMPOTENCY_HEADER
from backbone.idempotency import respond_once
from backbone.problems import Unauthorized, problem_response
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, IntegrationKind
from intake.adapters import rate_limits
from intake.config import Settings
from intake.domain import alertmanager as am
from intake.domain import events_v2 as ev2
from intake.domain import generic
from intake.domain.integrations import Integration
from intake.domain.limits import MAX_BODY_BYTES
from intake.domain.signals import Signal
from intake.handlers import alerts
from intake.handlers.alerts import Coalescer, retryable
from intake.handlers.integrations import integration_for_token

router = APIRouter(prefix="/v1", tags=["alerts"], max_body_size=MAX_BODY_BYTES)


class AcceptedAlert(BaseModel):
    dedup_key: str
    incident_id: UUID | None
    opened: bool
    outcome: str


class AlertsAccepted(BaseModel):
    status: str = "accepted"
    alerts: list[AcceptedAlert]


class EventAccepted(BaseModel):
    status: str = "success"
    message: str = "Event processed"
    dedup_key: str


def _accepted(accepted: list[alerts.Accepted]) -> AlertsAccepted:
    return AlertsAccepted(
        alerts=[
            AcceptedAlert(
                dedup_key=a.dedup_key, incident_id=a.incident_id, opened=a.opened, outcome=a.outcome
            )
            for a in accepted
        ]
    )


async def bearer_integration(
    request: Request, uow: UowDep, authorization: Annotated[str | None, Header()] = None
) -> Integration:
    """The integration whose bearer token authorizes the request. A dependency, so a request
    without a valid token is refused before its alerts are validated or anything is written."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an integration token is required (Authorization: Bearer <token>)")
    integration = await integration_for_token(uow, token)
    if integration is None:
        raise Unauthorized("the integration token is not valid")
    if (why := integration.refuses_bearer(request.url.path)) is not None:
        raise Unauthorized(why)
    return integration


IntegrationDep = Annotated[Integration, Depends(bearer_integration)]


async def _once(
    request: Request,
    uow: UnitOfWork,
    integration: Integration,
    work: Callable[[], Awaitable[tuple[int, BaseModel]]],
) -> JSONResponse:
    """respond_once (Idempotency-Key, keys the integration's own), retrying a transaction that
    PostgreSQL aborted for a deadlock or serialization failure with replicas writing the same keys."""
    scope = f"{integration.tenant_id}/integration/{integration.id}"
    for attempt in range(3):
        try:
            if IDEMPOTENCY_HEADER not in request.headers:
                # The hot path of a storm: the answer serialized by pydantic at once, not walked
                # by jsonable_encoder (a tenth of a 100-alert request's time).
                code, body = await work()
                await uow.commit()
                return JSONResponse(body.model_dump(mode="json"), status_code=code)
            return await respond_once(request, uow, scope, work)
        except DBAPIError as exc:
            if not retryable(exc) or attempt == 2:  # retried here, not by the sender
                raise
            await uow.rollback()
    raise AssertionError("unreachable")


async def _accept(
    request: Request,
    uow: UnitOfWork,
    runtime: RuntimeDep,
    integration: Integration,
    source: IncidentSource,
    signals: list[Signal],
) -> Response:
    """Accepts the alerts: firing ones without an Idempotency-Key by group commit with the other
    requests of the integration in flight in this process (intake/coalesce.py), else (or when
    that transaction failed) in the request's own transaction."""
    if IDEMPOTENCY_HEADER not in request.headers and all(s.firing for s in signals):
        coalescer = getattr(request.app.state, "alert_coalescer", None)
        if coalescer is None:
            coalescer = request.app.state.alert_coalescer = Coalescer()
        accepted = await coalescer.accept(uow, integration, source, signals, _repeat_every(runtime))
        if accepted is not None:
            # The AlertsAccepted document, encoded at once (no model per alert): a storm's answers.
            document = {
                "status": "accepted",
                "alerts": [
                    {
                        "dedup_key": a.dedup_key,
                        "incident_id": a.incident_id,
                        "opened": a.opened,
                        "outcome": a.outcome,
                    }
                    for a in accepted
                ],
            }
            return Response(to_json(document), status_code=202, media_type="application/json")

    async def accept() -> tuple[int, AlertsAccepted]:
        accepted = await alerts.accept_signals(
            uow, integration, source, signals, repeat_every=_repeat_every(runtime)
        )
        return 202, _accepted(accepted)

    return await _once(request, uow, integration, accept)


def _repeat_every(runtime: RuntimeDep) -> timedelta:
    return timedelta(seconds=cast(Settings, runtime.settings).alert_repeat_event_interval_s)


async def _throttled(
    runtime: RuntimeDep, request: Request, uow: UnitOfWork, integration: Integration, cost: int
) -> JSONResponse | None:
    """A 429 with Retry-After when the integration's bucket is empty, else None. The take is
    committed at once, in the request's own connection (no second one from the pool)."""
    settings = cast(Settings, runtime.settings)
    rate = integration.rate_limit_per_s or settings.alert_rate_per_s  # the integration's own, if set
    burst = integration.rate_limit_burst or settings.alert_rate_burst
    taken = await rate_limits.take(uow.session, integration.id, cost, rate=rate, burst=burst)
    await uow.session.commit()
    if taken.allowed:
        return None
    response = problem_response(
        429,
        "Too many requests",
        f"integration {integration.name!r} sends more than {rate:g} alerts per second; "
        f"retry after {taken.retry_after_s}s",
        request.url.path,
        retry_after_s=taken.retry_after_s,
    )
    response.headers["Retry-After"] = str(taken.retry_after_s)
    return response


@router.post("/alerts/alertmanager", status_code=status.HTTP_202_ACCEPTED, response_model=AlertsAccepted)
async def alertmanager_webhook(
    body: am.Webhook, request: Request, uow: UowDep, runtime: RuntimeDep, integration: IntegrationDep
) -> Response:
    """Alertmanager webhook (version 4), authenticated by an alertmanager or generic integration's
    token (`Authorization: Bearer <token>`). Firing alerts open or update an incident of the
    integration's tenant; resolved ones resolve it once all its alerts have resolved. Not rate
    limited (Alertmanager groups and throttles itself). Accepts an Idempotency-Key header."""
    grouping = list(integration.grouping_labels)
    signals = [am.signal(a, am.dedup_key(a, grouping, integration_id=integration.id)) for a in body.alerts]
    return await _accept(request, uow, runtime, integration, IncidentSource.ALERTMANAGER, signals)


@router.post("/alerts/generic", status_code=status.HTTP_202_ACCEPTED, response_model=AlertsAccepted)
async def generic_webhook(
    body: generic.GenericBody, request: Request, uow: UowDep, runtime: RuntimeDep, integration: IntegrationDep
) -> Response:
    """Generic alerts: one alert object or an array of them (docs/intake.md), authenticated by a
    generic or alertmanager integration's token. Rate limited per integration (429 with
    Retry-After). Accepts an Idempotency-Key header."""
    items = body.alerts()
    if (throttled := await _throttled(runtime, request, uow, integration, len(items))) is not None:
        return throttled
    grouping = list(integration.grouping_labels)
    signals = [
        generic.signal(a, generic.dedup_key(a, grouping, integration_id=integration.id)) for a in items
    ]
    return await _accept(request, uow, runtime, integration, IncidentSource.GENERIC, signals)


def _invalid_event(errors: list[str]) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, 400
    )


@router.post(
    "/alerts/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=EventAccepted,
    responses={
        400: {"description": "Invalid event: {status, message, errors}"},
        429: {"description": "Rate limited"},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    },
)
async def events_v2(request: Request, uow: UowDep, runtime: RuntimeDep) -> JSONResponse:
    """PagerDuty Events API v2: `routing_key` (an events_v2 integration's token), `event_action`
    trigger|acknowledge|resolve, `dedup_key` (generated for a trigger without one), `payload`
    {summary, source, severity, timestamp, component, group, class, custom_details}. Answers
    202 {status, message, dedup_key}; 400 {status: "invalid event", message, errors} for an
    invalid event; 429 with Retry-After over the integration's rate limit."""
    try:
        event = ev2.parse(await request.body())
    except ev2.Invalid as exc:
        return _invalid_event(exc.errors)
    integration = await integration_for_token(uow, event.routing_key)
    if integration is None or integration.kind is not IntegrationKind.EVENTS_V2:
        return _invalid_event(["routing_key: not the routing key of an events_v2 integration"])
    if (throttled := await _throttled(runtime, request, uow, integration, 1)) is not None:
        return throttled
    key = ev2.source_key(event)

    async def accept() -> tuple[int, EventAccepted]:
        if event.event_action == "acknowledge":
            await alerts.acknowledge(uow, integration, ev2.dedup_key(integration.id, key))
        else:
            signal = ev2.signal(event, key, integration_id=integration.id)
            await alerts.accept_signals(
                uow, integration, IncidentSource.EVENTS_V2, [signal], repeat_every=_repeat_every(runtime)
            )
        return 202, EventAccepted(dedup_key=key)

    return await _once(request, uow, integration, accept)
