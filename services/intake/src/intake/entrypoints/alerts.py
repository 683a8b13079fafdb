"""HTTP API of the intake service for alerts: translates Alertmanager webhooks, PagerDuty Events
v2 and generic alerts into commands (docs/intake.md). A request is answered once its alerts are
appended to Kafka; intake's consumer of that topic deduplicates them
(docs/adr/0013-durable-fast-ingest.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Annotated, Any, TypeVar, cast
from uuid import UUID

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_json

from backbone.app import Runtime, RuntimeDep, UowDep
from backbone.consumer import batched, subscribe
from backbone.idempotency import HEADER as IDEMPOTENCY_HEADER
from backbone.idempotency import respond_once
from backbone.problems import Problem, Unauthorized, problem_response
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, IntegrationKind
from contracts.topics import Topic
from intake.adapters import rate_limits
from intake.adapters.ingest import BatchConsumer
from intake.config import Settings
from intake.domain import alertmanager as am
from intake.domain import events_v2 as ev2
from intake.domain import generic
from intake.domain.integrations import Integration
from intake.domain.limits import MAX_BODY_BYTES
from intake.domain.signals import Signal
from intake.handlers import alerts
from intake.handlers.integrations import integration_for_token

router = APIRouter(prefix="/v1", tags=["alerts"], max_body_size=MAX_BODY_BYTES)


def consume_batches(runtime: Runtime) -> None:
    """Subscribe intake's consumer of intake.alerts: every replica's shares the topic's
    partitions in its own group (intake.alerts), a poll of up to INTAKE_ALERT_POLL_MAX_RECORDS
    messages deduplicated in one transaction (handlers.alerts.ingest)."""
    settings = cast(Settings, runtime.settings)
    repeat_every = timedelta(seconds=settings.alert_repeat_event_interval_s)
    handler = batched(partial(alerts.ingest, repeat_every=repeat_every))
    consumer = BatchConsumer(settings, runtime.uow, handler, runtime.relay.producer)
    subscribe(
        runtime.broker,
        consumer,
        [Topic.INTAKE_ALERTS.value],
        description="Accepted alert batches: deduplicated into incidents, a poll per transaction.",
        group_id=settings.alerts_group_id,
        max_records=settings.alert_poll_max_records,
        title="intake:alerts",
    )


class AcceptedAlert(BaseModel):
    """An alert appended for deduplication: its dedup key is final; whether it opens an incident,
    attaches or is silenced is decided after the answer (docs/adr/0013-durable-fast-ingest.md)."""

    dedup_key: str
    incident_id: UUID | None = None
    opened: bool | None = None
    outcome: str = "accepted"


class AlertsAccepted(BaseModel):
    status: str = "accepted"
    alerts: list[AcceptedAlert]


class EventAccepted(BaseModel):
    status: str = "success"
    message: str = "Event processed"
    dedup_key: str


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
    work: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> Response:
    """``work`` once per Idempotency-Key (keys the integration's own; the stored answer is the
    only database write of such a request), else at once, its answer encoded by pydantic-core."""
    if IDEMPOTENCY_HEADER in request.headers:
        return await respond_once(request, uow, f"{integration.tenant_id}/integration/{integration.id}", work)
    code, body = await work()
    return Response(to_json(body), status_code=code, media_type="application/json")


async def _append(
    request: Request,
    runtime: Runtime,
    integration: Integration,
    source: IncidentSource,
    *,
    signals: Sequence[Signal] = (),
    acknowledge: Sequence[str] = (),
) -> None:
    """The request's one durable write: its alerts appended to intake.alerts (acks=all). A
    broker that does not acknowledge in time is a 503, which senders retry."""
    settings = cast(Settings, runtime.settings)
    try:
        await alerts.receive(
            runtime.relay.producer,
            settings.topic(Topic.INTAKE_ALERTS),
            integration,
            source,
            runtime.clock.now(),
            signals=signals,
            acknowledge=acknowledge,
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
            timeout_s=settings.alert_append_timeout_s,
        )
    except (KafkaError, TimeoutError) as exc:
        raise Problem(
            f"the alerts could not be stored ({type(exc).__name__}); retry",
            status=503,
            title="Service unavailable",
        ) from exc


async def _accept(
    request: Request,
    uow: UnitOfWork,
    runtime: Runtime,
    integration: Integration,
    source: IncidentSource,
    signals: list[Signal],
) -> Response:
    """Appends the alerts and answers 202 with their dedup keys (the AlertsAccepted document,
    built as plain data: no model per alert on a storm's hot path)."""

    async def accept() -> tuple[int, dict[str, Any]]:
        await _append(request, runtime, integration, source, signals=signals)
        listed = [
            {"dedup_key": s.dedup_key, "incident_id": None, "opened": None, "outcome": "accepted"}
            for s in signals
        ]
        return 202, {"status": "accepted", "alerts": listed}

    return await _once(request, uow, integration, accept)


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


E = TypeVar("E", bound=ev2.Routed)


async def routed_event(
    request: Request, uow: UnitOfWork, runtime: Runtime, parse: Callable[[bytes], E]
) -> tuple[E, Integration] | Response:
    """A PagerDuty-format event (an alert or a change) and the events_v2 integration its
    routing_key names, within its rate limit; else PagerDuty's 400, or a 429."""
    try:
        event = parse(await request.body())
    except ev2.Invalid as exc:
        return _invalid_event(exc.errors)
    integration = await integration_for_token(uow, event.routing_key)
    if integration is None or integration.kind is not IntegrationKind.EVENTS_V2:
        return _invalid_event(["routing_key: not the routing key of an events_v2 integration"])
    if (throttled := await _throttled(runtime, request, uow, integration, 1)) is not None:
        return throttled
    return event, integration


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
async def events_v2(request: Request, uow: UowDep, runtime: RuntimeDep) -> Response:
    """PagerDuty Events API v2: `routing_key` (an events_v2 integration's token), `event_action`
    trigger|acknowledge|resolve, `dedup_key` (generated for a trigger without one), `payload`
    {summary, source, severity, timestamp, component, group, class, custom_details}. Answers
    202 {status, message, dedup_key}; 400 {status: "invalid event", message, errors} for an
    invalid event; 429 with Retry-After over the integration's rate limit."""
    routed = await routed_event(request, uow, runtime, ev2.parse)
    if isinstance(routed, Response):
        return routed
    event, integration = routed
    key = ev2.source_key(event)

    async def accept() -> tuple[int, dict[str, Any]]:
        if event.event_action == "acknowledge":
            acked = [ev2.dedup_key(integration.id, key)]
            await _append(request, runtime, integration, IncidentSource.EVENTS_V2, acknowledge=acked)
        else:
            signal = ev2.signal(event, key, integration_id=integration.id)
            await _append(request, runtime, integration, IncidentSource.EVENTS_V2, signals=[signal])
        return 202, EventAccepted(dedup_key=key).model_dump(mode="json")

    return await _once(request, uow, integration, accept)
