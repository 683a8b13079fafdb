"""Group commit (intake/coalesce.py): firing alerts of one integration sent at the same time to
one replica are accepted in one transaction, with the outcomes they would have had one request
after the other; a request the database refuses fails alone, never the others of its batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from contracts.enums import IntegrationKind
from intake.adapters.orm import dedup_keys

from .conftest import Alerting

pytestmark = pytest.mark.integration

URL = "/v1/alerts/alertmanager"


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "platform", "alerts": list(alerts)}


def firing(fingerprint: str, **labels: str) -> dict[str, Any]:
    return {"status": "firing", "fingerprint": fingerprint, "labels": {"alertname": "GC", **labels}}


async def test_concurrent_requests_open_each_key_once_and_count_every_alert(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.ALERTMANAGER)
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [webhook(*(firing(f"gc-{(i + j) % 7}") for j in range(5))) for i in range(24)]
    answers = await asyncio.gather(*(alerting.client.post(URL, json=b, headers=headers) for b in bodies))
    assert [r.status_code for r in answers] == [202] * len(bodies)
    outcomes = [a for r in answers for a in r.json()["alerts"]]
    assert len(outcomes) == 24 * 5  # every alert answered, in its own request
    opened = sorted(a["dedup_key"] for a in outcomes if a["opened"])
    assert opened == sorted({a["dedup_key"] for a in outcomes})  # one opening per key
    by_key = {a["dedup_key"]: a["incident_id"] for a in outcomes if a["opened"]}
    assert all(a["incident_id"] == by_key[a["dedup_key"]] for a in outcomes)
    async with alerting.db.sessions() as s:
        total = await s.scalar(
            select(func.sum(dedup_keys.c.alert_count)).where(dedup_keys.c.tenant_id == integration.tenant_id)
        )
    assert total == 24 * 5


async def test_a_request_the_database_refuses_fails_alone(alerting: Alerting) -> None:
    token, integration = await alerting.integration(IntegrationKind.ALERTMANAGER)
    headers = {"Authorization": f"Bearer {token}"}
    # PostgreSQL refuses a NUL character in jsonb: this request cannot be stored, alone or
    # batched; it is answered 422 (bad input), the others of its batch 202.
    bad = webhook(firing("gc-bad", note="nul\u0000"))
    refused = await alerting.client.post(URL, json=bad, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "NUL" in refused.json()["detail"]
    good = [webhook(firing(f"gc-good-{i}")) for i in range(6)]
    answers = await asyncio.gather(
        *(alerting.client.post(URL, json=b, headers=headers) for b in [*good[:3], bad, *good[3:]]),
        return_exceptions=True,
    )
    assert [getattr(r, "status_code", r) for r in answers] == [202, 202, 202, 422, 202, 202, 202]
    async with alerting.db.sessions() as s:
        keys = set(
            (
                await s.scalars(
                    select(dedup_keys.c.dedup_key).where(dedup_keys.c.tenant_id == integration.tenant_id)
                )
            ).all()
        )
    assert keys == {f"am:gc-good-{i}" for i in range(6)}
