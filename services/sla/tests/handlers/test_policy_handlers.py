"""Policy handlers and adapter against the real PostgreSQL (no broker): seeding on first use is
idempotent and race-free, an edit is kept and announced, a refusal writes nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from backbone.auth import Principal
from backbone.db import Database
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role, Severity, SubscriptionTier
from sla.adapters import policy as policies
from sla.adapters.orm import policies as policy_rows
from sla.domain.policy import FIGURES
from sla.handlers import policy as handlers

PREMIUM, BASIC = SubscriptionTier.PREMIUM, SubscriptionTier.BASIC


def figures(calendar: str, *minutes: int) -> dict[str, Any]:
    return {"calendar": calendar, **dict(zip(FIGURES, minutes, strict=True))}


def manager(tenant: uuid.UUID) -> Principal:
    return Principal(user_id=uuid.uuid4(), tenant_id=tenant, role=Role.INCIDENT_MANAGER)


async def count(db: Database, tenant: uuid.UUID) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).where(policy_rows.c.tenant_id == tenant)) or 0)


async def test_first_use_seeds_the_tenants_rows_once_even_when_replicas_race(db: Database) -> None:
    tenant = uuid.uuid4()

    async def first_use(severity: Severity) -> int:
        async with UnitOfWork(db.sessions, source="sla") as uow:
            got = await policies.get(uow.session, tenant, PREMIUM, severity)
            await uow.commit()
            return got.response_target_minutes

    # Eight units of work seeding the same fresh tenant at once: none fails, none doubles a row.
    answers = await asyncio.gather(*(first_use(s) for s in list(Severity) * 2))
    assert answers == [15, 60, 240, 1440] * 2
    assert await count(db, tenant) == 12


async def test_an_edit_is_kept_announced_and_not_undone_by_the_seed(db: Database, uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    caller = manager(tenant)
    await handlers.put_policy(
        uow,
        caller,
        BASIC,
        Severity.P1,
        figures("24x7", 30, 60, 600, 900),
    )
    [event] = uow.emitted
    assert event.type == "sla.policy_changed.v1"
    assert event.data["response_target_minutes"] == 30 and event.data["calendar"] == "24x7"
    assert event.data["tier"] == "basic" and event.data["severity"] == "P1"
    await uow.commit()

    async with UnitOfWork(db.sessions, source="sla") as fresh:
        edited = await policies.get(fresh.session, tenant, BASIC, Severity.P1)
        listed = await policies.all(fresh.session, tenant)
    assert (edited.calendar, edited.response_target_minutes, edited.resolution_deadline_minutes) == (
        "24x7",
        30,
        900,
    )
    assert len(listed) == 12 and edited in listed
    # The rest were seeded with the edit, and stay the table's.
    assert await count(db, tenant) == 12
    assert (
        next(p for p in listed if (p.tier, p.severity) == (BASIC, Severity.P2)).response_target_minutes
        == 1440
    )


async def test_a_refused_edit_writes_nothing(db: Database, uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(Unprocessable) as refused:
        await handlers.put_policy(
            uow,
            manager(tenant),
            PREMIUM,
            Severity.P1,
            figures("24x7", 45, 30, 120, 240),
        )
    assert "exceeds" in str(refused.value.detail)
    assert uow.emitted == []
    await uow.commit()
    assert await count(db, tenant) == 0


async def test_other_tenants_keep_the_seeded_figures(db: Database, uow: UnitOfWork) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    await handlers.put_policy(
        uow,
        manager(mine),
        PREMIUM,
        Severity.P1,
        figures("business_hours", 1, 2, 3, 4),
    )
    await uow.commit()
    async with UnitOfWork(db.sessions, source="sla") as fresh:
        other = await policies.get(fresh.session, theirs, PREMIUM, Severity.P1)
    assert (other.calendar, other.response_target_minutes) == ("24x7", 15)
