"""Calendar handlers and adapter against the real PostgreSQL (no broker): which calendar a
client's clocks run on, a client must be the tenant's, a refusal writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from backbone.auth import Principal
from backbone.db import Database
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role
from sla.adapters import calendar as calendars
from sla.adapters import subscription as subscriptions
from sla.adapters.orm import calendars as calendar_rows
from sla.domain.calendar import DEFAULT
from sla.handlers import calendar as handlers

BERLIN = {"time_zone": "Europe/Berlin", "hours": {"mon": [["08:00", "16:00"]]}, "holiday_country": "DE"}
TOKYO = {"time_zone": "Asia/Tokyo", "hours": {"sat": [["10:00", "24:00"]]}, "holidays": ["2026-05-05"]}


def manager(tenant: uuid.UUID) -> Principal:
    return Principal(user_id=uuid.uuid4(), tenant_id=tenant, role=Role.SYSTEM_ADMINISTRATOR)


async def client_of(db: Database, tenant: uuid.UUID) -> uuid.UUID:
    client = uuid.uuid4()
    async with UnitOfWork(db.sessions, source="sla") as uow:
        await subscriptions.upsert(
            uow.session,
            [{"client_id": client, "tenant_id": tenant, "tier": "standard", "updated_at": uow.now}],
        )
        await uow.commit()
    return client


async def in_force(db: Database, tenant: uuid.UUID, client: uuid.UUID | None) -> dict[str, Any]:
    async with db.sessions() as s:
        return (await calendars.for_client(s, tenant, client)).to_json()


async def rows(db: Database, tenant: uuid.UUID) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).where(calendar_rows.c.tenant_id == tenant)) or 0)


async def test_client_own_else_tenant_default_else_built_in(db: Database) -> None:
    tenant = uuid.uuid4()
    caller = manager(tenant)
    client, other_client = await client_of(db, tenant), await client_of(db, tenant)
    assert await in_force(db, tenant, client) == DEFAULT.to_json()

    async with UnitOfWork(db.sessions, source="sla") as uow:
        await handlers.put_calendar(uow, caller, None, BERLIN)
        await uow.commit()
    assert (await in_force(db, tenant, client))["time_zone"] == "Europe/Berlin"
    assert (await in_force(db, tenant, None))["holiday_country"] == "DE"

    async with UnitOfWork(db.sessions, source="sla") as uow:
        await handlers.put_calendar(uow, caller, client, TOKYO)
        # Setting it again replaces it (one row per client).
        await handlers.put_calendar(uow, caller, client, TOKYO | {"holidays": ["2026-05-06"]})
        announced = uow.emitted
        await uow.commit()
    assert [e.data["scope"] for e in announced] == [str(client)] * 2
    assert announced[-1].data["definition"]["holidays"] == ["2026-05-06"]
    assert (await in_force(db, tenant, client))["time_zone"] == "Asia/Tokyo"
    assert (await in_force(db, tenant, other_client))["time_zone"] == "Europe/Berlin"
    assert await rows(db, tenant) == 2

    async with UnitOfWork(db.sessions, source="sla") as uow:
        await handlers.delete_calendar(uow, caller, client)
        [gone] = uow.emitted
        await handlers.delete_calendar(uow, caller, client)  # nothing left: no error, no event
        assert len(uow.emitted) == 1
        await uow.commit()
    assert gone.data["definition"] is None
    assert (await in_force(db, tenant, client))["time_zone"] == "Europe/Berlin"


async def test_another_tenants_client_is_unknown_and_untouched(db: Database) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    their_client = await client_of(db, theirs)
    async with UnitOfWork(db.sessions, source="sla") as uow:
        await handlers.put_calendar(uow, manager(theirs), their_client, TOKYO)
        await uow.commit()
    for attempt in (
        lambda uow: handlers.put_calendar(uow, manager(mine), their_client, BERLIN),
        lambda uow: handlers.delete_calendar(uow, manager(mine), their_client),
        lambda uow: handlers.put_calendar(uow, manager(mine), uuid.uuid4(), BERLIN),
    ):
        async with UnitOfWork(db.sessions, source="sla") as uow:
            with pytest.raises(NotFound):
                await attempt(uow)
            assert uow.emitted == []
            await uow.commit()
    assert await rows(db, mine) == 0
    assert (await in_force(db, theirs, their_client))["time_zone"] == "Asia/Tokyo"
    # Their client's calendar is not mine to use either: my lookup falls back to my default.
    assert await in_force(db, mine, their_client) == DEFAULT.to_json()


async def test_a_bad_calendar_is_refused_with_its_field_and_writes_nothing(db: Database) -> None:
    tenant = uuid.uuid4()
    async with UnitOfWork(db.sessions, source="sla") as uow:
        with pytest.raises(Unprocessable) as refused:
            await handlers.put_calendar(uow, manager(tenant), None, BERLIN | {"time_zone": "Europe/Atlantis"})
        assert uow.emitted == []
        await uow.commit()
    assert refused.value.extra.get("field") == "time_zone"
    assert await rows(db, tenant) == 0
