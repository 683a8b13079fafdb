"""An alert storm over two intake replicas: 20,000 Alertmanager alerts over 1,000 fingerprints,
in batches of 100 with 8 requests in flight, split across both replicas so that the same
fingerprints reach both at once. Each replica appends what it accepts to intake.alerts, one
message per partition touched; their consumers share the partitions, and one key's alerts are
always in one partition, so exactly 1,000 incidents open whatever the interleaving: 1,000
reports leave intake and triage, running beside them, records exactly 1,000 incidents."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import Stack, count_rows, eventually, producer_and_db, serving
from contracts.enums import IntegrationKind
from contracts.events import AlertRepeated, IncidentReported
from intake.adapters.orm import alerts, dedup_keys
from intake.config import Settings
from intake.main import create
from triage.adapters.orm import incidents
from triage.config import Settings as TriageSettings
from triage.main import create as create_triage

from .conftest import Alerting

pytestmark = pytest.mark.integration

ALERTS, FINGERPRINTS, BATCH, IN_FLIGHT = 20_000, 1_000, 100, 8


def storm(seed: int = 4) -> list[list[dict[str, Any]]]:
    order = [i % FINGERPRINTS for i in range(ALERTS)]
    random.Random(seed).shuffle(order)  # repeats of a fingerprint land in many batches at once
    batches = []
    for start in range(0, ALERTS, BATCH):
        batches.append(
            [
                {
                    "status": "firing",
                    "fingerprint": f"fp{n:04d}",
                    "labels": {"alertname": "Storm", "instance": f"host-{n}", "severity": "warning"},
                    "annotations": {"summary": f"storm on host-{n}"},
                    "startsAt": "2025-01-01T00:00:00Z",
                }
                for n in order[start : start + BATCH]
            ]
        )
    return batches


async def test_a_storm_over_two_replicas_opens_one_incident_per_fingerprint(stack: Stack) -> None:
    settings = stack.settings(
        Settings, log_level="WARNING", db_pool_size=IN_FLIGHT, alert_repeat_event_interval_s=60
    )
    async with producer_and_db(stack, "intake") as (producer, db):
        triage_db = Database.connect(stack.database_url, "triage", pool_size=1)
        try:
            async with (
                serving(create(settings)) as one,
                serving(create(settings)) as two,
                serving(create_triage(stack.settings(TriageSettings, log_level="WARNING"))),
            ):
                bed = Alerting(stack, one, producer, db, settings)
                token, integration = await bed.integration(IntegrationKind.ALERTMANAGER)
                # Both replicas know the token before the storm (each reads the shared replica table).
                headers = {"Authorization": f"Bearer {token}"}
                gate = asyncio.Semaphore(IN_FLIGHT)
                replicas = (one, two)

                async def send(i: int, batch: list[dict[str, Any]]) -> int:
                    body = {"version": "4", "status": "firing", "receiver": "platform", "alerts": batch}
                    client: httpx.AsyncClient = replicas[i % 2]
                    async with gate:
                        r = await client.post("/v1/alerts/alertmanager", json=body, headers=headers)
                    assert r.status_code == 202, r.text
                    return len(r.json()["alerts"])

                answered = await asyncio.gather(*(send(i, b) for i, b in enumerate(storm())))

                async def recorded() -> int | None:
                    n = await count_rows(triage_db, incidents, tenant)
                    return n if n == FINGERPRINTS else None

                tenant = integration.tenant_id
                await eventually(recorded, within=60, what="triage to record the storm's incidents")

            assert sum(answered) == ALERTS
            reported = await bed.events(IncidentReported.event_type, tenant)
            assert len(reported) == FINGERPRINTS
            assert len({e.subject for e in reported}) == FINGERPRINTS
            # Repeats are counted, not announced one event each: none within the minute of the report.
            assert await bed.events(AlertRepeated.event_type, tenant) == []
            async with db.sessions() as s:
                keys, total = (
                    await s.execute(
                        select(func.count(), func.sum(dedup_keys.c.alert_count)).where(
                            dedup_keys.c.tenant_id == tenant
                        )
                    )
                ).one()
                rows = (
                    await s.execute(
                        select(alerts.c.status, func.count())
                        .where(alerts.c.tenant_id == tenant)
                        .group_by(alerts.c.status)
                    )
                ).all()
            assert (keys, total) == (FINGERPRINTS, ALERTS)  # every alert counted once, on its own key
            assert [tuple(r) for r in rows] == [("firing", FINGERPRINTS)]  # one row per alert
        finally:
            await triage_db.dispose()
