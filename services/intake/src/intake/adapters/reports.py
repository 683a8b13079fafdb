"""Tables and SQL for reports from people: public reporters and submissions, the replicas of
directory's clients and components that the manual report's pre-checks read, and the
rate-limit counters of the public form (in the database, so every replica shares them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.tables import stamp, tenant_table
from intake.adapters.orm import metadata, principals, tenants

# Replica of directory's clients (client.onboarded.v1, client.updated.v1): only what the
# pre-check "client exists" needs.
clients = tenant_table(
    "clients",
    metadata,
    Column("status", String(20), nullable=False),
    stamp("updated_at"),
)

# Replica of directory's components (component.registered.v1): existence and ownership.
components = tenant_table(
    "components",
    metadata,
    Column("client_id", PG_UUID(as_uuid=True), nullable=False),
    Column("vendor_id", PG_UUID(as_uuid=True)),
)

# People who reported on the public form (004 incident_reporters): one row per submission, so
# a submission can never change the contact details another one left.
reporters = tenant_table(
    "reporters",
    metadata,
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(32)),
    Column("organization", String(200)),
    stamp("created_at"),
)
# For requests about one's own data (access, erasure): found by address within a tenant.
Index("ix_reporters_tenant_email", reporters.c.tenant_id, func.lower(reporters.c.email))

# Which incident each public submission opened, and who sent it. Minimized: the report's text
# travels in the event to triage; the client address is never stored.
public_submissions = tenant_table(
    "public_submissions",
    metadata,
    Column("incident_id", PG_UUID(as_uuid=True), nullable=False, unique=True),
    Column("reporter_id", PG_UUID(as_uuid=True), ForeignKey("reporters.id"), nullable=False, index=True),
    stamp("created_at"),
)

# Public submissions per (tenant, keyed client address) in the current fixed window.
report_rate_limits = Table(
    "report_rate_limits",
    metadata,
    Column("tenant_id", PG_UUID(as_uuid=True), nullable=False),
    Column("client_key", String(40), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False, index=True),
    Column("hits", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "client_key"),
)


async def reporter_status(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> str | None:
    """The user's status in the users replica, None when the tenant has no such user."""
    status: str | None = await session.scalar(
        select(principals.c.status).where(
            principals.c.tenant_id == tenant_id, principals.c.user_id == user_id
        )
    )
    return status


async def client(session: AsyncSession, tenant_id: UUID, client_id: UUID) -> Any:
    return (
        await session.execute(
            select(clients).where(clients.c.tenant_id == tenant_id, clients.c.id == client_id)
        )
    ).first()


async def component(session: AsyncSession, tenant_id: UUID, component_id: UUID) -> Any:
    return (
        await session.execute(
            select(components).where(components.c.tenant_id == tenant_id, components.c.id == component_id)
        )
    ).first()


async def tenant_by_slug(session: AsyncSession, slug: str) -> Any:
    return (await session.execute(select(tenants.c.id, tenants.c.name).where(tenants.c.slug == slug))).first()


# --------------------------------------------------------------------------- public submissions


async def add_submission(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    incident_id: UUID,
    reporter_id: UUID,
    submission_id: UUID,
    contact: dict[str, str | None],
) -> None:
    await session.execute(insert(reporters).values(id=reporter_id, tenant_id=tenant_id, **contact))
    await session.execute(
        insert(public_submissions).values(
            id=submission_id, tenant_id=tenant_id, incident_id=incident_id, reporter_id=reporter_id
        )
    )


async def count_hit(session: AsyncSession, tenant_id: UUID, client_key: str, window: datetime) -> int:
    """Counts one submission of this address in ``window`` and answers the window's count. A
    new window starts the count again; the first hit of a window also clears counters of
    addresses not seen for a day, so the table holds only recent addresses."""
    stmt = pg_insert(report_rate_limits).values(
        tenant_id=tenant_id, client_key=client_key, window_start=window, hits=1
    )
    row = (
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "client_key"],
                set_={
                    "hits": case(
                        (
                            report_rate_limits.c.window_start == stmt.excluded.window_start,
                            report_rate_limits.c.hits + 1,
                        ),
                        else_=1,
                    ),
                    "window_start": stmt.excluded.window_start,
                },
            ).returning(report_rate_limits.c.hits)
        )
    ).one()
    hits = int(row.hits)
    if hits == 1:
        await session.execute(
            delete(report_rate_limits).where(
                report_rate_limits.c.window_start < func.now() - literal_column("interval '1 day'")
            )
        )
    return hits
