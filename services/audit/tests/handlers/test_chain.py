"""Appending events to the tenants' hash chains, against the real database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from audit.adapters.orm import audit_log, chain_heads
from audit.domain.chain import GENESIS
from audit.handlers.chain import PLATFORM, record
from audit.views.chain import search, verify
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope, EventData
from contracts.events import TenantCreated, VendorRegistered


def _vendor(tenant_id: uuid.UUID, name: str = "Acme") -> tuple[Envelope, EventData]:
    event = VendorRegistered(
        vendor_id=uuid.uuid4(),
        tenant_id=tenant_id,
        vendor_name=name,
        vendor_email="ops@acme.example",
        vendor_phone="+44 20 7946 0958",
        vendor_type="software_vendor",
        status="active",
    )
    return Envelope.wrap(event, source="directory", tenant_id=tenant_id), event


async def _entries(uow: UnitOfWork, tenant_id: uuid.UUID) -> list[Any]:
    query = select(audit_log).where(audit_log.c.tenant_id == tenant_id).order_by(audit_log.c.seq)
    return list((await uow.session.execute(query)).all())


async def test_a_tenants_first_events_chain_from_genesis_in_the_order_received(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    batch = [_vendor(tenant, "one"), _vendor(tenant, "two"), _vendor(tenant, "three")]
    await record(uow, batch)
    entries = await _entries(uow, tenant)
    assert [e.event_id for e in entries] == [env.id for env, _ in batch]
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    head = (await uow.session.execute(select(chain_heads).where(chain_heads.c.tenant_id == tenant))).one()
    assert (head.seq, head.hash) == (entries[-1].seq, entries[-1].hash)
    assert (await verify(uow, tenant_id=tenant)) == {
        "valid": True,
        "entries": 3,
        "first_broken_seq": None,
        "reason": None,
    }


async def test_a_later_batch_continues_the_chain_from_its_head(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant)])
    await record(uow, [_vendor(tenant), _vendor(tenant)])
    entries = await _entries(uow, tenant)
    assert len(entries) == 3
    assert entries[1].prev_hash == entries[0].hash
    assert (await verify(uow, tenant_id=tenant))["valid"] is True


async def test_each_tenant_has_a_chain_of_its_own(uow: UnitOfWork) -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    await record(uow, [_vendor(one), _vendor(two), _vendor(one)])
    first, second = await _entries(uow, one), await _entries(uow, two)
    assert len(first) == 2 and len(second) == 1
    assert first[0].prev_hash == GENESIS and second[0].prev_hash == GENESIS
    assert first[1].prev_hash == first[0].hash
    assert [
        e["event_id"]
        for e in await search(uow, tenant_id=two, subject=None, event_type=None, after=0, limit=10)
    ] == [second[0].event_id]


async def test_events_of_no_tenant_chain_under_the_platform(uow: UnitOfWork) -> None:
    event = TenantCreated(tenant_id=uuid.uuid4(), slug="acme", name="Acme")
    envelope = Envelope.wrap(event, source="directory", tenant_id=None)
    before = len(await _entries(uow, PLATFORM))
    await record(uow, [(envelope, event)])
    entries = await _entries(uow, PLATFORM)
    assert len(entries) == before + 1 and entries[-1].event_id == envelope.id


async def test_contact_data_is_masked_before_it_is_chained(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant)])
    (entry,) = await _entries(uow, tenant)
    assert "ops@acme.example" not in str(entry.data)
    assert "7946" not in entry.data["vendor_phone"]
    assert entry.data["vendor_name"] == "Acme"


async def test_a_changed_entry_breaks_verification_at_that_entry(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant), _vendor(tenant), _vendor(tenant)])
    entries = await _entries(uow, tenant)
    await uow.session.execute(
        audit_log.update()
        .where(audit_log.c.seq == entries[1].seq)
        .values(data={**entries[1].data, "vendor_name": "Forged"})
    )
    result = await verify(uow, tenant_id=tenant)
    assert result["valid"] is False and result["first_broken_seq"] == entries[1].seq
