"""Tracing and JSON logs with trace ids; W3C traceparent travels in message headers and on
rows that carry work to a later transaction (docs/architecture.md "Tracing").

Spans are recorded only when an OTLP endpoint is set, and then only for sampled traces: the
SDK's sampler is parent-based and reads ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``.
An unsampled message costs a header lookup, never a span object."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from typing import Any
from uuid import UUID

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_configured = False
# Spans are worth making only when they go somewhere: without an exporter nothing is traced.
_enabled = False
_tracer: trace.Tracer = trace.NoOpTracer()
_W3C = TraceContextTextMapPropagator()
TRACEPARENT = "traceparent"
Headers = Sequence[tuple[str, bytes]] | None


def _add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format(ctx.trace_id, "032x")
        event["span_id"] = format(ctx.span_id, "016x")
    return event


def setup(
    service: str, *, level: str = "INFO", json_logs: bool = True, otlp_endpoint: str | None = None
) -> None:
    """Idempotent: tests create many apps in one process."""
    global _configured
    if _configured:
        return
    _configured = True

    global _enabled, _tracer
    resource = Resource.create({"service.name": service})
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The sampler the SDK reads from OTEL_TRACES_SAMPLER(_ARG); parent-based by default.
        provider = TracerProvider(resource=resource)
        # OTLP over HTTP; the exporter itself reads OTEL_EXPORTER_OTLP_ENDPOINT and adds /v1/traces.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        _enabled = True
    else:
        # Still ids for the logs of a request, but no span is recorded.
        provider = TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    trace.set_tracer_provider(provider)
    _tracer = provider.get_tracer("backbone")

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


# -- trace context across messages and rows ----------------------------------------------------


def enabled() -> bool:
    """Whether spans are recorded (an OTLP endpoint is set)."""
    return _enabled


def sampled(traceparent: str | None) -> str | None:
    """``traceparent`` if tracing is on and it names a sampled trace (W3C, version 00), else
    None: the cheap test every message and row goes through."""
    if not _enabled or traceparent is None or len(traceparent) != 55:
        return None
    try:
        flags = int(traceparent[53:], 16)
    except ValueError:
        return None
    return traceparent if flags & 1 else None


def _format(span: trace.Span) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span (a request's, a message's) when it is sampled:
    what events and rows written now carry. None when unsampled: nothing downstream records."""
    if not _enabled:
        return None
    span = trace.get_current_span()
    ctx = span.get_span_context()
    return _format(span) if ctx.is_valid and ctx.trace_flags.sampled else None


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers or ():
        if key == name:
            return bytes(value).decode("ascii", errors="replace")
    return None


@contextlib.contextmanager
def consuming(
    service: str, traces: MutableMapping[UUID, str], messages: Iterable[tuple[UUID, str, Headers]]
) -> Iterator[None]:
    """A consumer span, child of the message's trace, for each sampled message of a batch
    handled in one transaction; ``traces`` maps each such event id to its span's traceparent,
    so what the handlers write for it continues that trace. Unsampled messages get no span."""
    if not _enabled:
        yield
        return
    spans: list[trace.Span] = []
    for event_id, event_type, headers in messages:
        parent = sampled(_header(headers, TRACEPARENT))
        if parent is None:
            continue
        span = _tracer.start_span(
            f"{service} process {event_type}",
            context=_W3C.extract({TRACEPARENT: parent}),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.message.id": str(event_id)},
        )
        traces[event_id] = _format(span)
        spans.append(span)
    try:
        yield
    except BaseException as exc:
        for span in spans:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()


@contextlib.contextmanager
def continued(
    traceparent: str | None, name: str, *, kind: SpanKind = SpanKind.INTERNAL, **attributes: Any
) -> Iterator[trace.Span | None]:
    """A span in the trace ``traceparent`` names (carried on a row written by another
    transaction), current while the block runs; None and no span when it is not sampled."""
    parent = sampled(traceparent)
    if parent is None:
        yield None
        return
    with _tracer.start_as_current_span(
        name, context=_W3C.extract({TRACEPARENT: parent}), kind=kind, attributes=attributes
    ) as span:
        yield span
