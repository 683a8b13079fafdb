"""The service factory: every service is one process of FastAPI + FastStream subscribers + an
outbox relay (docs/architecture.md "What runs"). A service describes itself with a ``Service``;
``create_app`` gives it /healthz, /readyz, /metrics, /docs, /asyncapi, problem+json errors, JSON
logs, a cap on every request body and the retention loop (docs/retention.md)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import make_asgi_app
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import Headers
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backbone import problems, telemetry
from backbone.auth import (
    USER_EVENTS,
    Caller,
    PrincipalLookup,
    TokenVerifier,
    load_pem,
    replica_lookup,
    replicate_users,
)
from backbone.clock import SYSTEM_CLOCK, Clock
from backbone.consumer import EventConsumer, Handler, Handlers, batched, chains, subscribe
from backbone.db import Database
from backbone.kafka import make_broker
from backbone.outbox import OutboxRelay, make_producer
from backbone.retention import RetentionLoop, Rule, idempotency_rule
from backbone.settings import ServiceSettings
from backbone.uow import UnitOfWork
from contracts.envelope import EventData, event_class
from contracts.permissions import Permission
from contracts.topics import Topic


@dataclass
class Runtime:
    """What a running service holds; reachable from requests as ``request.app.state.runtime``."""

    settings: ServiceSettings
    db: Database
    broker: KafkaBroker
    relay: OutboxRelay
    consumer: EventConsumer | None
    verifier: TokenVerifier | None = None
    principal_lookup: PrincipalLookup = replica_lookup
    clock: Clock = SYSTEM_CLOCK

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.db.sessions, source=self.settings.service_name, on_commit=self.relay.wake, clock=self.clock
        )


BackgroundTask = Callable[[Runtime], Coroutine[Any, Any, None]]


@dataclass
class Service:
    settings: ServiceSettings
    title: str
    description: str
    api: Sequence[APIRouter] = ()
    # Per event type one handler, or several run in order in one transaction.
    handlers: Handlers = field(default_factory=dict)
    subscribes: Sequence[Topic] = ()
    # The handler of event types the contracts do not define (their data as a plain dict);
    # None skips them. Audit records them rather than leave a gap.
    unknown_events: Handler | None = None
    publishes: Sequence[type[EventData]] = ()
    background: Sequence[BackgroundTask] = ()
    # Rows the service deletes when old (docs/retention.md); idempotency keys are always added.
    retention: Sequence[Rule] = ()
    # Every service but directory keeps a replica of users for access checks
    # (docs/adr/0004-directory-and-access.md).
    replicate_users: bool = True
    principal_lookup: PrincipalLookup = replica_lookup
    # The service's one clock: units of work read their ``now`` from it, timer loops their
    # firing time; tests give a ManualClock.
    clock: Clock = SYSTEM_CLOCK


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """A fresh unit of work per request; the endpoint commits it explicitly."""
    async with get_runtime(request).uow() as uow:
        yield uow


async def _runtime(request: Request) -> Runtime:
    # Async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop
    # per request on the hot path for a plain attribute read.
    return get_runtime(request)


class Strict(BaseModel):
    """Base of request bodies: unknown fields are refused (422), so a typo never silently
    drops a change; surrounding whitespace of strings is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


async def _clock(request: Request) -> Clock:
    return get_runtime(request).clock


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
# The service's clock, for an endpoint that passes a time down (``uow.now`` is usually enough).
ClockDep = Annotated[Clock, Depends(_clock)]
UowDep = Annotated[UnitOfWork, Depends(get_uow)]


def _document_publishers(broker: KafkaBroker, service: Service) -> None:
    """Declares what the service publishes, so the AsyncAPI document shows it. The relay sends
    these from the outbox; the declared publishers only describe them."""
    by_topic: dict[Topic, list[type[EventData]]] = {}
    for cls in service.publishes:
        by_topic.setdefault(cls.topic, []).append(cls)
    for topic, classes in by_topic.items():
        for cls in classes:
            broker.publisher(
                service.settings.topic(topic),
                schema=cls,
                title=f"{service.settings.topic(topic)}:{cls.event_type}",
                description=(cls.__doc__ or cls.event_type).strip(),
            )


class _ProblemOnTooLarge:
    """Every 413 leaving a service is problem+json. The body cap (Starlette's, set through
    FastAPI's ``max_body_size``) answers in plain text when it refuses a body by its
    Content-Length after the route answered without reading it (a 401, say); that answer is
    replaced here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replacing = False

        async def send_problem(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 413:
                media = Headers(raw=message.get("headers", [])).get("content-type", "")
                replacing = not media.startswith(problems.PROBLEM_JSON)
            if not replacing:
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                refused = problems.content_too_large(scope.get(MAX_BODY_SIZE_SCOPE_KEY), scope.get("path"))
                await refused(scope, receive, send)

        await self.app(scope, receive, send_problem)


class _App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if isinstance(stack, ServerErrorMiddleware):
            # Just inside the outermost middleware (which answers only 500s): the tracing
            # instrumentation rebuilds the stack from it and skips one of another shape.
            stack.app = _ProblemOnTooLarge(stack.app)
            return stack
        return _ProblemOnTooLarge(stack)


def create_app(service: Service) -> FastAPI:
    settings = service.settings
    telemetry.setup(
        settings.service_name,
        level=settings.log_level,
        json_logs=settings.log_json,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
    )
    broker = make_broker(settings, description=service.description)
    db = Database.connect(settings.database_url, settings.db_schema, pool_size=settings.db_pool_size)
    producer = make_producer(settings)
    relay = OutboxRelay(db, settings, producer)
    consumer: EventConsumer | None = None
    runtime_box: dict[str, Runtime] = {}
    verifier = TokenVerifier(load_pem(settings.auth_public_key)) if settings.auth_public_key else None

    handlers = chains(service.handlers)
    subscribes = list(service.subscribes)
    if service.replicate_users:
        replica = batched(replicate_users)  # one object, so both user events batch together
        for event_type in USER_EVENTS:
            # The replica first, then whatever the service does with user events itself.
            handlers[event_type] = (replica, *handlers.get(event_type, ()))
        if Topic.DIRECTORY_EVENTS not in subscribes:
            subscribes.append(Topic.DIRECTORY_EVENTS)

    if handlers or service.unknown_events is not None:
        for event_type in handlers:
            if event_class(event_type).topic not in subscribes:
                raise ValueError(
                    f"{settings.service_name} handles {event_type} but does not subscribe to its topic"
                )
        consumer = EventConsumer(
            settings, lambda: runtime_box["rt"].uow(), handlers, producer, unknown=service.unknown_events
        )
        subscribe(
            broker,
            consumer,
            [t.value for t in subscribes],
            description="Handles: " + ", ".join(sorted(handlers)),
        )
    _document_publishers(broker, service)
    runtime = Runtime(
        settings, db, broker, relay, consumer, verifier, service.principal_lookup, clock=service.clock
    )
    runtime_box["rt"] = runtime
    retention = RetentionLoop(
        [idempotency_rule(timedelta(hours=settings.idempotency_retention_hours)), *service.retention],
        batch=settings.retention_batch_size,
        interval_s=settings.retention_interval_s,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await producer.start()
        relay.start()
        background: list[BackgroundTask] = [*service.background, retention]
        tasks = [asyncio.create_task(task(runtime)) for task in background]
        try:
            await broker.start()
            yield
        finally:
            await broker.stop()  # consumers first: nothing half-handled is acknowledged
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await relay.stop()
            await producer.stop()
            await db.dispose()

    app = _App(
        title=service.title,
        description=service.description,
        version="0.1.0",
        lifespan=lifespan,
        # Applies before anything reads the body, authentication included: by Content-Length
        # at once, else counted as the body streams in. A route may set its own max_body_size.
        max_body_size=settings.http_max_body_bytes,
    )
    app.state.runtime = runtime
    app.state.retention = retention
    # Server spans from incoming traceparent; events written in a request carry its trace.
    # Without the per-chunk "http receive"/"http send" spans: each chunk of a body made a span
    # (a large request dozens); the request's own span and its children stay. Not at all when
    # tracing is off: the middleware's work per request would go nowhere.
    if telemetry.enabled():
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"]
        )
    problems.install(app)
    for api in service.api:
        app.include_router(api)
    app.mount("/metrics", make_asgi_app())

    specification = AsyncAPI(broker, title=service.title, version="0.1.0", description=service.description)

    @app.get("/asyncapi", tags=["ops"], response_class=HTMLResponse)
    async def asyncapi_html() -> str:
        """The AsyncAPI document, generated from the code, rendered for people."""
        return get_asyncapi_html(specification.to_specification(), try_it_out_path=None)

    @app.get("/asyncapi.json", tags=["ops"])
    async def asyncapi_json() -> Any:
        """The AsyncAPI document (3.0) of this service's topics, generated from the code."""
        return specification.to_specification().to_jsonable()

    @app.get("/asyncapi.yaml", tags=["ops"], response_class=PlainTextResponse)
    async def asyncapi_yaml() -> str:
        return specification.to_specification().to_yaml()

    @app.get("/v1/me", tags=["auth"])
    async def me(caller: Caller) -> dict[str, Any]:
        """The caller as this service sees them now (role, links, permissions), after every
        access check: a quick way to see whether a token is accepted here."""
        return {
            "user_id": caller.user_id,
            "tenant_id": caller.tenant_id,
            "role": caller.role,
            "client_id": caller.client_id,
            "vendor_id": caller.vendor_id,
            "is_platform_operator": caller.is_platform_operator,
            "permissions": sorted(p.value for p in Permission if caller.can(p)),
            "service": settings.service_name,
        }

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": settings.service_name}

    @app.get("/readyz", tags=["ops"], response_model=None)
    async def readyz() -> Any:
        """Readiness: the database and the broker answer, and tokens can be verified."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(db.ping(), 3)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            ok = await broker.ping(timeout=3)
            checks["kafka"] = "ok" if ok else "error: no answer"
        except Exception as exc:
            checks["kafka"] = f"error: {type(exc).__name__}"
        checks["auth"] = "ok" if verifier is not None else "error: AUTH_PUBLIC_KEY is not set"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
        )

    return app
