"""HTTP writes with an Idempotency-Key have their effect once (docs/architecture.md "Delivery guarantees")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from backbone.db import Database
from backbone.tables import OUTBOX
from backbone.testing import Stack, eventually, serving, unique
from contracts.topics import Topic
from intake.adapters.orm import dedup_keys
from intake.config import Settings as IntakeSettings
from intake.main import create as create_intake

pytestmark = pytest.mark.integration


def body(fingerprint: str) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": "X"}, "fingerprint": fingerprint}],
    }


async def test_retried_write_with_same_key_has_one_effect(stack: Stack, intake_token: str) -> None:
    token = intake_token
    db = Database.connect(stack.database_url, "intake", pool_size=2)
    try:
        settings = stack.settings(IntakeSettings)
        async with serving(create_intake(settings)) as intake:
            auth = {"Authorization": f"Bearer {token}"}
            fingerprint = unique("fp")

            async def first() -> Any:
                r = await intake.post(
                    "/v1/alerts/alertmanager",
                    json=body(fingerprint),
                    headers={**auth, "Idempotency-Key": "k1"},
                )
                return r if r.status_code == 202 else None

            original = await eventually(first, what="intake to accept the alert")
            # Retries, one of them concurrent with another.
            replays = await asyncio.gather(
                *[
                    intake.post(
                        "/v1/alerts/alertmanager",
                        json=body(fingerprint),
                        headers={**auth, "Idempotency-Key": "k1"},
                    )
                    for _ in range(3)
                ]
            )
            for r in replays:
                assert r.status_code == 202 and r.json() == original.json()
                assert r.headers["idempotent-replayed"] == "true"

            async def settled() -> bool:
                # The alerts are deduplicated after the answer (docs/adr/0013-durable-fast-ingest.md).
                return await stack.caught_up(settings, Topic.INTAKE_ALERTS, group_id=settings.alerts_group_id)

            async def key() -> tuple[int, int]:
                await eventually(settled, what="intake to handle the accepted alerts")
                async with db.sessions() as s:
                    count, incident_id = (
                        await s.execute(
                            select(dedup_keys.c.alert_count, dedup_keys.c.incident_id).where(
                                dedup_keys.c.dedup_key == f"am:{fingerprint}"
                            )
                        )
                    ).one()
                    events = await s.scalar(
                        select(func.count()).select_from(OUTBOX).where(OUTBOX.c.key == str(incident_id))
                    )
                return count, int(events or 0)

            # Not bumped by the replays; one incident_reported, no alert_repeated.
            assert await key() == (1, 1)

            # Without the key the same alert is a repeat, as it should be.
            plain = await intake.post("/v1/alerts/alertmanager", json=body(fingerprint), headers=auth)
            assert plain.status_code == 202
            assert (await key())[0] == 2

            # The same key for a different request is refused and writes nothing.
            misuse = await intake.post(
                "/v1/alerts/alertmanager", json=body("other"), headers={**auth, "Idempotency-Key": "k1"}
            )
            assert misuse.status_code == 422
            assert misuse.headers["content-type"] == "application/problem+json"
            await eventually(settled, what="intake to handle the accepted alerts")
            async with db.sessions() as s:
                assert not await s.scalar(select(dedup_keys.c.id).where(dedup_keys.c.dedup_key == "am:other"))
    finally:
        await db.dispose()
