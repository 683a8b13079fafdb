"""Alert integrations over the real broker and database: intake replicates directory's
integration.created.v1 and authenticates Alertmanager webhooks by the integration's token; the
integration decides the tenant, the grouping of alerts into incidents and the impact facts."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from backbone.db import Database
from backbone.testing import Stack, eventually, outbox_events, producer_and_db, serving, unique
from contracts.enums import Degradation, IntegrationKind
from contracts.envelope import Envelope, EventData
from contracts.events import (
    ImpactFacts,
    IncidentReported,
    IntegrationDeleted,
    IntegrationTokenRotated,
    IntegrationUpdated,
    LabelRule,
)
from contracts.topics import Topic
from intake.adapters.orm import alerts, dedup_keys, inbox, integrations, outbox
from intake.config import Settings
from intake.main import create

from .conftest import new_integration as integration
from .conftest import settled

pytestmark = pytest.mark.integration

URL = "/v1/alerts/alertmanager"


@dataclass
class Bed:
    stack: Stack
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    db: Database
    settings: Settings

    async def publish(self, event: EventData, key: str | None = None) -> Envelope:
        """As directory would: the envelope's JSON on directory.events, keyed by the subject."""
        envelope = Envelope.wrap(event, source="directory", tenant_id=event.tenant_id)
        await self.producer.send_and_wait(
            self.stack.topic_prefix + Topic.DIRECTORY_EVENTS,
            envelope.model_dump_json().encode(),
            key=(key or envelope.subject).encode(),
        )
        return envelope

    async def replicated(self, token: str) -> UUID | None:
        """The id of the integration intake holds for this token, once it holds it."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        async with self.db.sessions() as s:
            found: UUID | None = await s.scalar(
                select(integrations.c.id).where(integrations.c.token_sha256 == digest)
            )
            return found

    async def handled(self, envelope: Envelope) -> bool:
        """Intake's inbox has the event: its effects, if any, are committed."""
        async with self.db.sessions() as s:
            return await s.scalar(select(inbox.c.event_id).where(inbox.c.event_id == envelope.id)) is not None

    async def written(self, tenant_id: UUID) -> tuple[int, int, int]:
        """Alerts, dedup keys and outbox rows of the tenant."""
        async with self.db.sessions() as s:
            n_alerts = await s.scalar(
                select(func.count()).select_from(alerts).where(alerts.c.tenant_id == tenant_id)
            )
            n_keys = await s.scalar(
                select(func.count()).select_from(dedup_keys).where(dedup_keys.c.tenant_id == tenant_id)
            )
            n_events = await s.scalar(select(func.count()).select_from(outbox))
            return int(n_alerts or 0), int(n_keys or 0), int(n_events or 0)

    async def reported(self, incident_id: UUID) -> Envelope:
        rows = await outbox_events(self.db, event_type=IncidentReported.event_type, key=incident_id)
        assert len(rows) == 1, rows
        return rows[0]

    async def post(self, token: str | None, *alerts: dict[str, Any]) -> httpx.Response:
        """Post a webhook and wait until what it had accepted is handled."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        r = await self.client.post(URL, json=webhook(*alerts), headers=headers)
        await settled(self.stack, self.settings)
        return r

    async def incident_of(self, tenant_id: UUID, dedup_key: str) -> UUID:
        """The incident of the key's open row."""
        async with self.db.sessions() as s:
            found: UUID = await s.scalar(
                select(dedup_keys.c.incident_id).where(
                    dedup_keys.c.tenant_id == tenant_id,
                    dedup_keys.c.dedup_key == dedup_key,
                    dedup_keys.c.status == "open",
                )
            )
            return found

    async def accepted(self, token: str, *alerts: dict[str, Any]) -> httpx.Response:
        """Posts until intake knows the integration (replication takes a moment)."""

        async def attempt() -> httpx.Response | None:
            r = await self.post(token, *alerts)
            if r.status_code == 401:
                return None
            assert r.status_code == 202, r.text
            return r

        return await eventually(attempt, what="intake to accept the integration's token")


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "status": "firing", "receiver": "platform", "alerts": list(alerts)}


def alert(fingerprint: str, **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "fingerprint": fingerprint,
        "labels": {"alertname": "HighErrorRate", **labels},
        "annotations": {"summary": f"errors on {labels.get('pod', '?')}"},
        "startsAt": "2025-01-01T00:00:00Z",
    }


@pytest.fixture(scope="module")
async def bed(stack: Stack) -> AsyncIterator[Bed]:
    settings = stack.settings(Settings)
    async with producer_and_db(stack, "intake") as (producer, db), serving(create(settings)) as client:
        yield Bed(stack, client, producer, db, settings)


async def test_a_wrong_or_absent_token_is_refused_and_writes_nothing(bed: Bed) -> None:
    token, event = integration()
    ev2_token, ev2 = integration(IntegrationKind.EVENTS_V2, tenant_id=event.tenant_id)
    await bed.publish(event)
    await bed.publish(ev2)
    await eventually(lambda: bed.replicated(ev2_token), what="the events_v2 integration in the replica")
    before = await bed.written(event.tenant_id)

    cases: list[tuple[dict[str, str], str]] = [
        ({}, "required"),
        ({"Authorization": f"Basic {token}"}, "required"),
        ({"Authorization": "Bearer "}, "required"),
        ({"Authorization": "Bearer not-a-token-of-anyone"}, "not valid"),
        ({"Authorization": f"Bearer {token}x"}, "not valid"),
        ({"Authorization": f"Bearer {ev2_token}"}, "events_v2"),
    ]
    for headers, why in cases:
        r = await bed.client.post(URL, json=webhook(alert(unique("fp"), cluster="eu")), headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == "Bearer"
        problem = r.json()
        assert problem["status"] == 401 and why in problem["detail"], (headers, problem)
    # Refused before the body is looked at: an invalid body without a token is a 401 too.
    bad = await bed.client.post(URL, json={"version": "4", "status": "firing", "alerts": []})
    assert bad.status_code == 401

    assert await bed.written(event.tenant_id) == before
    # The right token of the same tenant is let in, so the refusals above were about the token.
    await bed.accepted(token, alert(unique("fp"), cluster="eu"))
    n_alerts, n_keys, _ = await bed.written(event.tenant_id)
    assert (n_alerts, n_keys) == (before[0] + 1, before[1] + 1)


async def test_grouping_labels_put_alerts_of_one_group_on_one_incident(bed: Bed) -> None:
    token, event = integration(grouping_labels=["cluster", "alertname"])
    await bed.publish(event)
    first = await bed.accepted(token, alert("fp-1", cluster="eu", pod="p1"))
    # Another fingerprint (another pod) of the same group, then a different group.
    second = await bed.post(
        token, alert("fp-2", cluster="eu", pod="p2"), alert("fp-3", cluster="us", pod="p1")
    )
    assert second.status_code == 202, second.text
    (a,), (b, c) = first.json()["alerts"], second.json()["alerts"]
    tenant = event.tenant_id
    assert a["dedup_key"] == b["dedup_key"] != c["dedup_key"] and str(event.integration_id) in a["dedup_key"]
    incident_a = await bed.incident_of(tenant, a["dedup_key"])
    assert incident_a and incident_a != await bed.incident_of(tenant, c["dedup_key"])
    assert len(await outbox_events(bed.db, event_type=IncidentReported.event_type, tenant_id=tenant)) == 2

    # Another integration of the tenant with the same grouping never joins that incident, and an
    # integration without grouping labels (a generic one here) dedups by fingerprint.
    other_token, other = integration(tenant_id=event.tenant_id, grouping_labels=["cluster", "alertname"])
    plain_token, plain = integration(IntegrationKind.GENERIC, tenant_id=event.tenant_id)
    await bed.publish(other)
    await bed.publish(plain)
    d = (await bed.accepted(other_token, alert("fp-4", cluster="eu", pod="p1"))).json()["alerts"][0]
    assert d["dedup_key"] != a["dedup_key"]
    assert await bed.incident_of(tenant, d["dedup_key"]) not in (None, incident_a)
    by_fingerprint = await bed.accepted(plain_token, alert("fp-5", cluster="eu"), alert("fp-6", cluster="eu"))
    e, f = by_fingerprint.json()["alerts"]
    assert (e["dedup_key"], f["dedup_key"]) == ("am:fp-5", "am:fp-6")
    assert len(await outbox_events(bed.db, event_type=IncidentReported.event_type, tenant_id=tenant)) == 5


async def test_incident_reported_carries_impact_client_component_and_integration(bed: Bed) -> None:
    client_id, component_id = uuid4(), uuid4()
    token, event = integration(
        client_id=client_id,
        default_component_id=component_id,
        default_impact=ImpactFacts(business_critical=True, degradation=Degradation.MINOR, affected_parties=5),
        impact_rules=[
            LabelRule(
                label="severity", values=["critical", "page"], fact="degradation", to="complete_outage"
            ),
            LabelRule(label="customer_facing", fact="sla_risk", to=True),
            LabelRule(label="severity", values=["warning"], fact="business_critical", to=False),
            LabelRule(label="severity", fact="degradation", to="catastrophic"),  # invalid: skipped
            LabelRule(label="severity", fact="blast_radius", to=3),  # no such fact: skipped
        ],
    )
    await bed.publish(event)
    r = await bed.accepted(token, alert(unique("fp"), severity="critical", customer_facing="yes"))
    incident_id = await bed.incident_of(event.tenant_id, r.json()["alerts"][0]["dedup_key"])

    envelope = await bed.reported(incident_id)
    assert envelope.tenantid == event.tenant_id and envelope.source == "intake"
    reported = envelope.payload()
    assert isinstance(reported, IncidentReported)
    assert reported.client_id == client_id
    assert reported.component_id == component_id
    assert reported.integration_id == event.integration_id
    assert reported.impact.model_dump(exclude_none=True) == {
        "business_critical": True,
        "degradation": "complete_outage",
        "affected_parties": 5,
        "sla_risk": True,
    }

    # Another alert of the integration matching other rules: defaults, overridden differently.
    r = await bed.post(token, alert(unique("fp"), severity="warning"))
    other_id = await bed.incident_of(event.tenant_id, r.json()["alerts"][0]["dedup_key"])
    other = (await bed.reported(other_id)).payload()
    assert isinstance(other, IncidentReported)
    assert other.impact.model_dump(exclude_none=True) == {
        "business_critical": False,
        "degradation": "minor",
        "affected_parties": 5,
    }


async def test_a_newer_event_of_an_integration_replaces_it(bed: Bed) -> None:
    token, event = integration()
    await bed.publish(event)
    await bed.accepted(token, alert(unique("fp")))

    new_token, _ = integration()
    replaced = event.model_copy(
        update={"token_sha256": hashlib.sha256(new_token.encode()).hexdigest(), "grouping_labels": ["x"]}
    )
    await bed.publish(replaced)
    await bed.accepted(new_token, alert(unique("fp"), x="1"))
    assert (await bed.post(token, alert(unique("fp")))).status_code == 401  # the old token is gone

    # An event claiming the integration for another tenant changes nothing.
    thief_token, _ = integration()
    stolen = event.model_copy(
        update={"tenant_id": uuid4(), "token_sha256": hashlib.sha256(thief_token.encode()).hexdigest()}
    )
    marker_token, marker = integration()
    await bed.publish(stolen)
    # The marker on the same key (so the same partition) after it: once it is in, so is that one.
    await bed.publish(marker, key=str(event.integration_id))
    await eventually(lambda: bed.replicated(marker_token), what="the marker integration")
    await eventually(lambda: bed.replicated(new_token), what="the integration to stay as it was")
    assert await bed.replicated(thief_token) is None


async def test_many_alerts_in_a_row_keep_deduplicating(bed: Bed) -> None:
    """The dedup upsert keeps finding its partial unique index when its prepared statement has
    run often enough for PostgreSQL to switch to a generic plan."""
    token, event = integration()
    await bed.publish(event)
    await bed.accepted(token, alert(unique("fp")))
    for i in range(25):
        r = await bed.post(token, alert(f"row-{i}"), alert(f"row-{i}"))
        assert r.status_code == 202, (i, r.text)
        async with bed.db.sessions() as s:
            rows = (
                await s.execute(
                    select(dedup_keys.c.alert_count).where(
                        dedup_keys.c.tenant_id == event.tenant_id, dedup_keys.c.dedup_key == f"am:row-{i}"
                    )
                )
            ).all()
        assert [r.alert_count for r in rows] == [2], i  # one row: opened, then attached


async def test_an_integration_that_does_not_auto_resolve_keeps_its_incident_open(bed: Bed) -> None:
    """`auto_resolve: false` in directory's event: resolved alerts are recorded, the incident
    stays open (a person resolves it), and a repeat of the alert still attaches to it."""
    token, event = integration(auto_resolve=False)
    await bed.publish(event)
    fp = unique("fp")
    await bed.accepted(token, alert(fp))
    incident_id = await bed.incident_of(event.tenant_id, f"am:{fp}")
    resolved = {**alert(fp), "status": "resolved", "endsAt": "2025-01-01T00:05:00Z"}
    assert (await bed.post(token, resolved)).status_code == 202
    assert await bed.incident_of(event.tenant_id, f"am:{fp}") == incident_id  # recorded, still open
    assert (await bed.post(token, alert(fp))).status_code == 202
    assert await bed.incident_of(event.tenant_id, f"am:{fp}") == incident_id  # attached
    async with bed.db.sessions() as s:
        kinds = (await s.scalars(select(outbox.c.event_type).where(outbox.c.key == str(incident_id)))).all()
    assert "intake.alerts_resolved.v1" not in kinds


async def test_rotated_and_deleted_tokens_are_refused_and_stay_refused(bed: Bed) -> None:
    """The replica follows integration.token_rotated.v1 and integration.deleted.v1, and an older
    state delivered again (a redriven dead letter) never brings back a token rotated away."""
    old_token, created = integration(revision=1)
    await bed.publish(created)
    await bed.accepted(old_token, alert(unique("fp")))

    new_token = unique("tok-") + uuid4().hex
    rotated = IntegrationTokenRotated(
        **{
            **created.model_dump(),
            "token_sha256": hashlib.sha256(new_token.encode()).hexdigest(),
            "revision": 2,
        }
    )
    await bed.publish(rotated)
    await bed.accepted(new_token, alert(unique("fp")))
    assert (await bed.post(old_token, alert(unique("fp")))).status_code == 401

    replayed = await bed.publish(created)
    renamed = IntegrationUpdated(**{**rotated.model_dump(), "name": unique("renamed-"), "revision": 3})
    update = await bed.publish(renamed)
    for envelope in (replayed, update):
        await eventually(lambda envelope=envelope: bed.handled(envelope), what="the replay and the update")
    assert (await bed.post(old_token, alert(unique("fp")))).status_code == 401
    assert (await bed.post(new_token, alert(unique("fp")))).status_code == 202
    async with bed.db.sessions() as session:
        name = await session.scalar(
            select(integrations.c.name).where(integrations.c.id == created.integration_id)
        )
    assert name == renamed.name  # the newer revision applied, the older one not

    deleted = await bed.publish(
        IntegrationDeleted(integration_id=created.integration_id, tenant_id=created.tenant_id, revision=4)
    )
    await eventually(lambda: bed.handled(deleted), what="intake to handle the deletion")
    refused = await bed.post(new_token, alert(unique("fp")))
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    # Neither an older state nor a replay of the newest one brings the deleted integration back.
    again = [await bed.publish(renamed), await bed.publish(rotated)]
    for envelope in again:
        await eventually(lambda envelope=envelope: bed.handled(envelope), what="the replays")
    assert (await bed.post(new_token, alert(unique("fp")))).status_code == 401
    assert await bed.replicated(new_token) == created.integration_id  # kept as the tombstone
