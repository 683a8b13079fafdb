"""Intake commands and event handlers. One function each; the caller's unit of work commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import insert, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource
from contracts.envelope import Envelope, new_id
from contracts.events import (
    AlertRepeated,
    IncidentReported,
    IntegrationCreated,
    TenantCreated,
    token_sha256,
)
from intake.adapters import integrations as integrations_repo
from intake.adapters.orm import alerts, dedup_keys, tenants
from intake.domain import alertmanager as am
from intake.domain.integrations import Integration


async def record_tenant(uow: UnitOfWork, envelope: Envelope, event: TenantCreated) -> None:
    await uow.session.execute(
        pg_insert(tenants)
        .values(id=event.tenant_id, slug=event.slug, name=event.name)
        .on_conflict_do_update(index_elements=["id"], set_={"slug": event.slug, "name": event.name})
    )


async def record_integration(uow: UnitOfWork, envelope: Envelope, event: IntegrationCreated) -> None:
    await integrations_repo.upsert(uow.session, event)


async def integration_for_token(uow: UnitOfWork, token: str) -> Integration | None:
    """The integration whose token this is; the lookup is by the token's hash, never the token."""
    return await integrations_repo.by_token_sha256(uow.session, token_sha256(token))


@dataclass(frozen=True)
class Accepted:
    dedup_key: str
    incident_id: UUID
    opened: bool


async def accept_alertmanager(
    uow: UnitOfWork, integration: Integration, webhook: am.Webhook
) -> list[Accepted]:
    """Firing alerts open an incident or attach to the open one with the same dedup key (the
    fingerprint, or the integration's grouping labels). The tenant is the integration's."""
    results: list[Accepted] = []
    now = datetime.now(UTC)
    tenant_id = integration.tenant_id
    grouping = list(integration.grouping_labels)
    for alert in webhook.alerts:
        key = am.dedup_key(alert, grouping, integration_id=integration.id)
        if alert.status == "firing":
            candidate = new_id()
            stmt = pg_insert(dedup_keys).values(
                id=new_id(),
                tenant_id=tenant_id,
                dedup_key=key,
                incident_id=candidate,
                first_seen_at=now,
                last_seen_at=now,
            )
            row = (
                await uow.session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["tenant_id", "dedup_key"],
                        # A literal, not a bound parameter: PostgreSQL must match the partial
                        # index's predicate, which it cannot do for a parameter once a prepared
                        # statement runs as a generic plan (from about the sixth execution).
                        index_where=text("status = 'open'"),
                        set_={"alert_count": dedup_keys.c.alert_count + 1, "last_seen_at": now},
                    ).returning(
                        dedup_keys.c.incident_id,
                        dedup_keys.c.alert_count,
                        # xmax is 0 on a freshly inserted row, non-zero on an updated one.
                        (literal_column("xmax") == 0).label("inserted"),
                    )
                )
            ).one()
            incident_id, opened = row.incident_id, bool(row.inserted)
            if opened:
                uow.emit(
                    IncidentReported(
                        incident_id=incident_id,
                        source=IncidentSource.ALERTMANAGER,
                        title=am.title(alert),
                        description=alert.annotations.get("description", "")[:4000],
                        dedup_key=key,
                        client_id=integration.client_id,
                        component_id=integration.default_component_id,
                        integration_id=integration.id,
                        impact=integration.impact(alert.labels),
                        labels=alert.labels,
                        detected_at=alert.startsAt or now,
                    ),
                    tenant_id=tenant_id,
                )
            else:
                uow.emit(
                    AlertRepeated(
                        incident_id=incident_id, dedup_key=key, alert_count=row.alert_count, last_seen_at=now
                    ),
                    tenant_id=tenant_id,
                )
        else:
            found = await uow.session.scalar(
                select(dedup_keys.c.incident_id).where(
                    dedup_keys.c.tenant_id == tenant_id,
                    dedup_keys.c.dedup_key == key,
                    dedup_keys.c.status == "open",
                )
            )
            if found is None:
                continue  # a resolve for nothing open: recorded nowhere, as Alertmanager resends
            incident_id, opened = found, False
        await uow.session.execute(
            insert(alerts).values(
                id=new_id(),
                tenant_id=tenant_id,
                incident_id=incident_id,
                source=IncidentSource.ALERTMANAGER.value,
                fingerprint=am.fingerprint(alert),
                status=alert.status,
                labels=alert.labels,
                starts_at=alert.startsAt,
                ends_at=alert.endsAt,
            )
        )
        results.append(Accepted(key, incident_id, opened))
    return results
