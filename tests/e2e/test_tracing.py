"""One alert is one trace across the services (docs/architecture.md "Tracing"): intake, triage,
notifications and audit run as their own processes, exporting to an OTLP/HTTP receiver in this
test, sampled parent-based by the standard OTEL_TRACES_SAMPLER(_ARG) variables. The alert's
request, intake's deduplication, triage opening the incident, notifications routing it and
sending it to a webhook, and audit recording each event are spans of the request's trace, one
tree. An alert whose caller said "not sampled" leaves no span anywhere."""

from __future__ import annotations

import contextlib
import gzip
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from backbone.testing import Stack, eventually, free_port, stop_process, unique
from notifications.testing import HttpReceiver, ready, webhook_rule

pytestmark = pytest.mark.integration

SERVICES = ("intake", "triage", "notifications", "audit")


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str


class OtlpReceiver:
    """An OTLP/HTTP traces endpoint (protobuf) keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.port = free_port()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    self.spans.append(
                        Span(
                            attributes.get("service.name", ""),
                            s.name,
                            s.trace_id.hex(),
                            s.span_id.hex(),
                            s.parent_span_id.hex(),
                        )
                    )
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf"
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OtlpReceiver]:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        try:
            yield self
        finally:
            await runner.cleanup()

    def trace(self, trace_id: str) -> list[Span]:
        return [s for s in self.spans if s.trace_id == trace_id]


@contextlib.contextmanager
def services(stack: Stack, otlp: str, logs: Path) -> Iterator[dict[str, str]]:
    """The four services, each its own uvicorn process exporting its spans to ``otlp``; their
    base URLs."""
    env = stack.environ(
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp,
        OTEL_TRACES_SAMPLER="parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG="1.0",
        OTEL_BSP_SCHEDULE_DELAY="200",  # export within the test's patience, not every 5 s
        LOG_JSON="false",
        NOTIFICATIONS_SECRET_KEY=Fernet.generate_key().decode(),
        NOTIFICATIONS_DELIVERY_POLL_S="0.1",
        NOTIFICATIONS_EGRESS_ALLOW="127.0.0.1/32",  # the webhook receiver below
    )
    urls: dict[str, str] = {}
    with contextlib.ExitStack() as processes:
        for service in SERVICES:
            port = free_port()
            with (logs / f"{service}.log").open("ab") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", f"{service}.main:create", "--factory"]
                    + ["--port", str(port), "--log-level", "warning"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.callback(stop_process, proc, 20)
            urls[service] = f"http://127.0.0.1:{port}"
        yield urls


def webhook(name: str) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "incident-platform",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "instance": "db-1", "severity": "critical"},
                "annotations": {"summary": f"{name} on db-1"},
                "startsAt": "2026-11-23T10:00:00Z",
                "fingerprint": unique("fp-"),
            }
        ],
    }


def tree_roots(spans: list[Span]) -> list[Span]:
    """The spans whose parent is not among ``spans``: one, the request's, if they form one tree."""
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_id not in ids]


@pytest.mark.timeout(900)  # four processes to start on a shared machine
async def test_one_alert_is_one_trace_across_the_services(
    stack: Stack, tmp_path: Path, integration_token: Callable[[uuid.UUID], Awaitable[str]]
) -> None:
    tenant = uuid.uuid4()
    token = await integration_token(tenant)
    otlp, hook = OtlpReceiver(), HttpReceiver()
    async with otlp.running(), hook.running():
        with services(stack, otlp.endpoint, tmp_path) as urls:
            for service, url in urls.items():
                await eventually(partial(ready, url), within=300, what=f"{service} to be ready")
            async with httpx.AsyncClient(base_url=urls["notifications"], timeout=30) as api:
                await webhook_rule(
                    api,
                    stack.auth(tenant_id=tenant),
                    hook.url,
                    "s3cret-" + uuid.uuid4().hex,
                    ["incident.created.v1"],
                )
            async with httpx.AsyncClient(timeout=30) as http:
                alerts = f"{urls['intake']}/v1/alerts/alertmanager"
                auth = {"Authorization": f"Bearer {token}"}
                # The caller's trace, not sampled: parent-based, nothing of it is recorded.
                quiet = uuid.uuid4().hex
                unsampled = {**auth, "traceparent": f"00-{quiet}-{uuid.uuid4().hex[:16]}-00"}
                first = await http.post(alerts, json=webhook("Unsampled"), headers=unsampled)
                assert first.status_code == 202, first.text
                answer = await http.post(alerts, json=webhook("DiskFull"), headers=auth)
                assert answer.status_code == 202, answer.text

            async def both_sent() -> bool:
                return len(hook.requests) >= 2

            await eventually(both_sent, within=120, what="both incidents at the webhook")

            async def request_trace() -> str | None:
                posted = [s for s in otlp.spans if s.service == "intake" and s.parent_id == ""]
                return posted[0].trace_id if len(posted) == 1 else None

            trace_id = await eventually(request_trace, what="the alert request's server span")

            async def whole() -> list[Span] | None:
                spans = otlp.trace(trace_id)
                by_service = {s.service for s in spans}
                names = {s.name for s in spans}
                done = (
                    by_service == set(SERVICES)
                    and "notifications send webhook" in names
                    and "audit process notification.sent.v1" in names
                )
                return spans if done else None

            spans = await eventually(whole, within=60, what="spans of every service in the alert's trace")

    names = {(s.service, s.name) for s in spans}
    assert {
        ("intake", "intake process intake.alerts_received.v1"),
        ("triage", "triage process intake.incident_reported.v1"),
        ("notifications", "notifications process incident.created.v1"),
        ("notifications", "notifications send webhook"),
        ("audit", "audit process intake.incident_reported.v1"),
        ("audit", "audit process incident.created.v1"),
        ("audit", "audit process notification.sent.v1"),
    } <= names, names
    # One tree: every span's parent is in the trace but the request's own.
    roots = tree_roots(spans)
    assert [(r.service, r.parent_id) for r in roots] == [("intake", "")], roots
    # The send is a child of the routing that queued its delivery, in another transaction.
    by_id = {s.span_id: s for s in spans}
    (send,) = [s for s in spans if s.name == "notifications send webhook"]
    assert by_id[send.parent_id].name == "notifications process incident.created.v1"
    # The unsampled caller's alert made its incident and delivery, but no span anywhere.
    assert otlp.trace(quiet) == []
