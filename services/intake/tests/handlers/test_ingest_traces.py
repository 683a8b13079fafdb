"""A poll of accepted alert batches is deduplicated in one transaction, yet the events about each
alert continue the trace of the request that appended it, and only that one
(docs/architecture.md "Tracing")."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from backbone.tables import OUTBOX
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, IntegrationKind
from contracts.envelope import Envelope, new_id
from contracts.events import IntegrationCreated, token_sha256
from intake.adapters.ingest import encode
from intake.domain.ingest import AlertBatch, Received
from intake.domain.signals import Signal
from intake.handlers import alerts, integrations

TRACED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _message(integration_id: UUID, tenant_id: UUID, *keys: str, now: datetime) -> Received:
    batch = AlertBatch(
        integration_id=integration_id,
        source=IncidentSource.ALERTMANAGER,
        received_at=now,
        alerts=[
            Signal(dedup_key=k, fingerprint=k, firing=True, title=f"{k} is down", labels={}) for k in keys
        ],
    )
    return Received.model_validate_json(encode(new_id(), tenant_id, batch, now))


async def test_each_alerts_events_carry_the_trace_of_its_own_message(uow: UnitOfWork) -> None:
    tenant = new_id()
    created = IntegrationCreated(
        integration_id=new_id(),
        tenant_id=tenant,
        kind=IntegrationKind.ALERTMANAGER,
        name="prom",
        token_sha256=token_sha256(f"tok-{new_id()}"),
        revision=1,
    )
    envelope = Envelope.wrap(created, source="directory", tenant_id=tenant)
    await integrations.replicate_integration(uow, envelope, created)
    traced = _message(created.integration_id, tenant, "am:traced", now=uow.now)
    quiet = _message(created.integration_id, tenant, "am:quiet", "am:quiet-too", now=uow.now)
    # As the consumer leaves it: only the sampled message has a trace to continue.
    uow.traces[traced.id] = TRACED

    await alerts.ingest(uow, [(quiet, quiet.data), (traced, traced.data)], repeat_every=timedelta(seconds=10))
    await uow.flush_events()

    rows = await uow.session.execute(
        select(OUTBOX.c.value, OUTBOX.c.headers).where(OUTBOX.c.event_type == "intake.incident_reported.v1")
    )
    carried = {json.loads(value)["data"]["dedup_key"]: headers.get("traceparent") for value, headers in rows}
    assert carried == {"am:traced": TRACED, "am:quiet": None, "am:quiet-too": None}
