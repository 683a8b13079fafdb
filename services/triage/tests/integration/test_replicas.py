"""Two triage replicas in one consumer group read the same topics while a burst of reports,
redeliveries and duplicate reports arrives, and while the second replica joins mid-stream:
every incident opens once with gap-free reference codes, every change writes one update record
and one event, and a manual escalation sent to both replicas at once happens once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from backbone import testing
from backbone.testing import Stack, eventually, outbox_events, producer_and_db, serving
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from contracts.envelope import Envelope, EventData, new_id
from contracts.events import AlertAcknowledged, AlertsResolved, IncidentReported
from triage.adapters.orm import incident_escalations, incident_updates, incidents, outbox
from triage.config import Settings as TriageSettings
from triage.handlers import incident as handlers
from triage.main import create as create_triage

pytestmark = pytest.mark.integration


async def test_two_replicas_never_double_an_incident_update_or_escalation(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenants = [uuid4(), uuid4()]
    # Which replica opened how many incidents (a pass-through spy bound at create time).
    opened_by: Counter[str] = Counter()
    original = handlers.open_incidents

    def spy(name: str) -> Callable[..., Awaitable[None]]:
        async def counted(uow: UnitOfWork, batch: list[tuple[Envelope, Any]], **kw: Any) -> None:
            await original(uow, batch, **kw)
            opened_by[name] += len(batch)

        return counted

    async def publish(data: EventData, tenant_id: UUID) -> Envelope:
        return await testing.publish(producer, stack.topic_prefix, data, tenant_id=tenant_id)

    reported: dict[UUID, UUID] = {}  # incident -> tenant

    async def report(i: int) -> None:
        tenant = tenants[i % 2]
        incident_id = new_id()
        reported[incident_id] = tenant
        data = IncidentReported(
            incident_id=incident_id,
            source=IncidentSource.ALERTMANAGER,
            title=f"alert {i}",
            dedup_key=f"fp-{incident_id}",
            detected_at=datetime.now(UTC),
        )
        envelope = await publish(data, tenant)
        if i % 7 == 0:
            await testing.send(producer, stack.topic_prefix, envelope)  # a redelivery: same event id
        if i % 11 == 0:
            await publish(data, tenant)  # the same report again under a new event id

    async def count(*conditions: Any) -> int:
        async with db.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(incidents).where(*conditions)) or 0)

    async with producer_and_db(stack, "triage") as (producer, db):
        monkeypatch.setattr(handlers, "open_incidents", spy("a"))
        settings = stack.settings(TriageSettings, consumer_max_records=20)
        async with serving(create_triage(settings)) as replica_a:
            for i in range(60):
                await report(i)
            monkeypatch.setattr(handlers, "open_incidents", spy("b"))
            async with serving(create_triage(settings)) as replica_b:
                # Keep the stream going until the joining replica has taken part.
                i = 60
                while i < 120 or (opened_by["b"] == 0 and i < 2000):
                    await report(i)
                    i += 1
                    if i % 20 == 0:
                        await asyncio.sleep(0.05)
                total = len(reported)

                async def all_open() -> bool:
                    return await count(incidents.c.tenant_id.in_(tenants)) == total

                await eventually(all_open, within=90, what=f"{total} incidents to open")
                assert opened_by["a"] > 0 and opened_by["b"] > 0, opened_by

                # Each incident once, with gap-free per-tenant reference codes.
                async with db.sessions() as s:
                    rows = (
                        await s.execute(
                            select(incidents.c.id, incidents.c.tenant_id, incidents.c.reference_code).where(
                                incidents.c.tenant_id.in_(tenants)
                            )
                        )
                    ).all()
                    created = Counter(
                        (
                            await s.scalars(
                                select(outbox.c.key).where(
                                    outbox.c.event_type == "incident.created.v1",
                                    outbox.c.key.in_([str(i) for i in reported]),
                                )
                            )
                        ).all()
                    )
                assert {r.id for r in rows} == set(reported)
                for tenant in tenants:
                    codes = sorted(r.reference_code for r in rows if r.tenant_id == tenant)
                    assert codes == [f"INC-{n:06d}" for n in range(1, len(codes) + 1)]
                assert set(created.values()) == {1} and len(created) == total

                # The alert source acknowledges every incident and resolves every third one,
                # each twice (distinct events): one change each, whichever replica handles it.
                ids = sorted(reported)
                for incident_id in ids:
                    ack = AlertAcknowledged(
                        incident_id=incident_id,
                        dedup_key=f"fp-{incident_id}",
                        acknowledged_at=datetime.now(UTC),
                    )
                    await publish(ack, reported[incident_id])
                    await publish(ack, reported[incident_id])
                resolved = ids[::3]
                for incident_id in resolved:
                    done = AlertsResolved(
                        incident_id=incident_id, dedup_key=f"fp-{incident_id}", resolved_at=datetime.now(UTC)
                    )
                    await publish(done, reported[incident_id])
                    await publish(done, reported[incident_id])

                async def settled() -> bool:
                    return await count(incidents.c.id.in_(resolved), incidents.c.status == "resolved") == len(
                        resolved
                    ) and await count(
                        incidents.c.id.in_(ids), incidents.c.status == "acknowledged"
                    ) == total - len(resolved)

                await eventually(settled, within=90, what="the acknowledgements and resolutions")
                async with db.sessions() as s:
                    changes = Counter(
                        (r.incident_id, r.from_value, r.to_value)
                        for r in await s.execute(
                            select(
                                incident_updates.c.incident_id,
                                incident_updates.c.from_value,
                                incident_updates.c.to_value,
                            ).where(
                                incident_updates.c.incident_id.in_(ids), incident_updates.c.field == "status"
                            )
                        )
                    )
                    events = Counter(
                        (r.key, r.event_type)
                        for r in await s.execute(
                            select(outbox.c.key, outbox.c.event_type).where(
                                outbox.c.key.in_([str(i) for i in ids])
                            )
                        )
                    )
                assert set(changes.values()) == {1}
                assert len(changes) == total + len(resolved)
                for incident_id in ids:
                    assert changes[(incident_id, "open", "acknowledged")] == 1
                    assert events[(str(incident_id), "incident.acknowledged.v1")] == 1
                for incident_id in resolved:
                    assert changes[(incident_id, "acknowledged", "resolved")] == 1
                    assert events[(str(incident_id), "incident.resolved.v1")] == 1
                assert sum(n for (_, t), n in events.items() if t == "incident.status_changed.v1") == len(
                    changes
                )

                # A manual escalation retried on both replicas at once, same Idempotency-Key.
                target = ids[1]
                headers = {
                    **stack.auth(tenant_id=reported[target], role="incident_manager"),
                    "Idempotency-Key": "escalate-once",
                }
                body = {"reason": "customer on the phone"}
                first, second = await asyncio.gather(
                    replica_a.post(f"/v1/incidents/{target}/escalate", json=body, headers=headers),
                    replica_b.post(f"/v1/incidents/{target}/escalate", json=body, headers=headers),
                )
                assert first.status_code == second.status_code == 201, (first.text, second.text)
                assert first.json() == second.json()
                async with db.sessions() as s:
                    escalations = (
                        await s.scalars(
                            select(incident_escalations.c.id).where(
                                incident_escalations.c.incident_id == target
                            )
                        )
                    ).all()
                escalated = await outbox_events(db, event_type="incident.escalated.v1", key=target)
                assert [str(e) for e in escalations] == [first.json()["id"]]
                assert [e.data["escalation_id"] for e in escalated] == [first.json()["id"]]
