"""SQL for the integrations replica (table ``intake.integrations``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import IntegrationKind
from contracts.events import IntegrationDeleted, IntegrationState, LabelRule
from intake.adapters.orm import integrations
from intake.domain.integrations import Integration

_REPLICATED = (
    "kind",
    "name",
    "client_id",
    "default_component_id",
    "impact_rules",
    "default_impact",
    "grouping_labels",
    "auto_resolve",
    "rate_limit_per_s",
    "rate_limit_burst",
    "token_sha256",
    "revision",
)


async def upsert(session: AsyncSession, event: IntegrationState) -> None:
    """Insert or replace the integration by id, unless the row holds a newer revision or the
    integration is deleted (an old state delivered again changes nothing). An event can never
    move an integration to another tenant: a row of another tenant with this id stays."""
    stmt = pg_insert(integrations).values(
        id=event.integration_id,
        tenant_id=event.tenant_id,
        kind=event.kind.value,
        name=event.name,
        client_id=event.client_id,
        default_component_id=event.default_component_id,
        impact_rules=[r.model_dump(mode="json") for r in event.impact_rules],
        default_impact=event.default_impact.model_dump(mode="json", exclude_none=True),
        grouping_labels=list(event.grouping_labels),
        auto_resolve=event.auto_resolve,
        rate_limit_per_s=event.rate_limit_per_s,
        rate_limit_burst=event.rate_limit_burst,
        token_sha256=event.token_sha256.lower(),
        revision=event.revision,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={c: stmt.excluded[c] for c in _REPLICATED},
            where=(integrations.c.tenant_id == stmt.excluded.tenant_id)
            & (integrations.c.revision <= stmt.excluded.revision)
            & integrations.c.deleted_at.is_(None),
        )
    )


async def mark_deleted(session: AsyncSession, event: IntegrationDeleted, at: datetime) -> None:
    """The integration's token is refused from now on; the row stays as the tombstone."""
    await session.execute(
        update(integrations)
        .where(
            integrations.c.id == event.integration_id,
            integrations.c.tenant_id == event.tenant_id,
            integrations.c.deleted_at.is_(None),
        )
        .values(deleted_at=at, revision=event.revision)
    )


async def by_token_sha256(session: AsyncSession, digest: str) -> Integration | None:
    row = (
        await session.execute(
            select(integrations).where(
                integrations.c.token_sha256 == digest, integrations.c.deleted_at.is_(None)
            )
        )
    ).first()
    return None if row is None else _integration(row)


async def by_ids(session: AsyncSession, ids: Collection[UUID]) -> dict[UUID, Integration]:
    """The integrations with these ids, deleted ones included: alerts accepted while the token
    was valid are handled even if the integration is deleted before they are."""
    rows = await session.execute(select(integrations).where(integrations.c.id.in_(sorted(ids))))
    return {row.id: _integration(row) for row in rows}


def _integration(row: Row[Any]) -> Integration:
    return Integration(
        id=row.id,
        tenant_id=row.tenant_id,
        kind=IntegrationKind(row.kind),
        name=row.name,
        client_id=row.client_id,
        default_component_id=row.default_component_id,
        impact_rules=tuple(LabelRule.model_validate(r) for r in row.impact_rules),
        default_impact=dict(row.default_impact),
        grouping_labels=tuple(row.grouping_labels),
        auto_resolve=row.auto_resolve,
        rate_limit_per_s=row.rate_limit_per_s,
        rate_limit_burst=row.rate_limit_burst,
    )
