"""Appending events to the tenants' logs and signing checkpoints, against the real database."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update

from audit.adapters.orm import checkpoints, entries, hashes
from audit.domain import checkpoint, tlog
from audit.domain.checkpoint import Signer
from audit.handlers.log import PLATFORM, record, sign_checkpoints
from audit.views.log import consistency, inclusion, keys, latest_note, search, verify
from backbone.clock import ManualClock
from backbone.db import Database
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, ClientType
from contracts.envelope import Envelope, EventData
from contracts.events import ChannelChanged, ClientOnboarded, TenantCreated, VendorRegistered

SIGNER = Signer(Ed25519PrivateKey.generate())


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
    query = select(entries).where(entries.c.tenant_id == tenant_id).order_by(entries.c.leaf_index)
    return list((await uow.session.execute(query)).all())


async def _sign(uow: UnitOfWork, signer: Signer = SIGNER) -> None:
    await sign_checkpoints(uow, uow.now, signer)


async def test_a_tenants_events_get_gapless_indexes_in_the_order_received(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    batch = [_vendor(tenant, "one"), _vendor(tenant, "two"), _vendor(tenant, "three")]
    await record(uow, batch)
    await record(uow, [_vendor(tenant, "four")])
    rows = await _entries(uow, tenant)
    assert [r.leaf_index for r in rows] == [0, 1, 2, 3]
    assert [r.event_id for r in rows[:3]] == [env.id for env, _ in batch]
    assert {r.action for r in rows} == {"create"}
    stored = (
        await uow.session.scalars(select(hashes.c.hash_index).where(hashes.c.tenant_id == tenant))
    ).all()
    assert sorted(stored) == list(range(tlog.stored_hash_count(4)))


async def test_redelivered_events_add_nothing(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    first = _vendor(tenant)
    await record(uow, [first, first])
    await record(uow, [first, _vendor(tenant)])
    rows = await _entries(uow, tenant)
    assert [r.leaf_index for r in rows] == [0, 1] and rows[0].event_id == first[0].id


async def test_each_tenant_has_a_log_of_its_own(uow: UnitOfWork) -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    await record(uow, [_vendor(one), _vendor(two), _vendor(one)])
    assert [r.leaf_index for r in await _entries(uow, one)] == [0, 1]
    found = await search(uow, tenant_id=two, where={}, after=-1, limit=10)
    assert [e["index"] for e in found] == [0]


async def test_events_of_no_tenant_go_to_the_platforms_log(uow: UnitOfWork) -> None:
    event = TenantCreated(tenant_id=uuid.uuid4(), slug="acme", name="Acme")
    envelope = Envelope.wrap(event, source="directory", tenant_id=None)
    await record(uow, [(envelope, event)])
    assert (await _entries(uow, PLATFORM))[-1].event_id == envelope.id


async def test_an_unknown_event_type_is_recorded_raw_and_minimized(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    envelope = Envelope(
        type="future.widget.created.v2",
        source="future",
        subject="w-1",
        tenantid=tenant,
        data={"widget": "w-1", "owner_email": "jane@corp.example", "api_token": "t0k"},
    )
    await record(uow, [(envelope, envelope.data)])
    (row,) = await _entries(uow, tenant)
    assert (row.event_type, row.action) == ("future.widget.created.v2", "create")
    assert row.data == {"widget": "w-1", "owner_email": "j***@corp.example", "api_token": "***"}


async def test_contact_fields_are_masked_names_kept(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant, "AuditCov A 1795794877")])
    (row,) = await _entries(uow, tenant)
    assert row.data["vendor_name"] == "AuditCov A 1795794877"
    assert row.data["vendor_email"] == "o***@acme.example" and row.data["vendor_phone"] == "***58"


async def test_a_grown_log_gets_one_signed_checkpoint_that_proofs_lead_to(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant) for _ in range(5)])
    await _sign(uow)
    await _sign(uow)  # nothing grew: nothing new
    signed = (
        await uow.session.scalars(select(checkpoints.c.size).where(checkpoints.c.tenant_id == tenant))
    ).all()
    assert signed == [5]
    note = await latest_note(uow, tenant_id=tenant)
    cp = checkpoint.open_note(note, SIGNER.verifier(tenant))
    assert (cp.origin, cp.size) == (checkpoint.origin(tenant), 5)
    proof = await inclusion(uow, tenant_id=tenant, index=3, size=5)

    tlog.verify_inclusion(
        [base64.b64decode(h) for h in proof["proof"]], 3, 5, base64.b64decode(proof["leaf"]), cp.root
    )
    await record(uow, [_vendor(tenant) for _ in range(4)])
    await _sign(uow)
    new = checkpoint.open_note(await latest_note(uow, tenant_id=tenant), SIGNER.verifier(tenant))
    step = await consistency(uow, tenant_id=tenant, old=5, new=9)
    tlog.verify_consistency([base64.b64decode(h) for h in step["proof"]], 5, cp.root, 9, new.root)
    assert (await verify(uow, tenant_id=tenant)) == {
        "ok": True,
        "checked": 9,
        "first_bad_index": None,
        "reason": None,
    }


async def test_a_new_key_re_signs_and_the_old_one_stays_listed(uow: UnitOfWork, clock: ManualClock) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant)])
    await _sign(uow)
    rotated = Signer(Ed25519PrivateKey.generate())
    await _sign(uow, rotated)
    checkpoint.open_note(await latest_note(uow, tenant_id=tenant), rotated.verifier(tenant))
    listed = await keys(uow, tenant_id=tenant, signer=rotated)
    assert listed[0]["verifier_key"] == rotated.verifier(tenant) and listed[0]["current"]
    assert SIGNER.verifier(tenant) in [k["verifier_key"] for k in listed[1:]]


async def test_a_log_signed_within_the_gap_waits_for_the_next_round(
    uow: UnitOfWork, clock: ManualClock
) -> None:
    """In a storm one checkpoint per log per round of the signer, not one per appended batch."""
    tenant = uuid.uuid4()
    gap = timedelta(seconds=1)
    await record(uow, [_vendor(tenant)])
    await sign_checkpoints(uow, clock.current, SIGNER, gap=gap)
    await record(uow, [_vendor(tenant)])
    await sign_checkpoints(uow, clock.current, SIGNER, gap=gap)
    sizes = select(checkpoints.c.size).where(checkpoints.c.tenant_id == tenant).order_by(checkpoints.c.id)
    assert (await uow.session.scalars(sizes)).all() == [1]
    clock.advance(seconds=1)
    await sign_checkpoints(uow, clock.current, SIGNER, gap=gap)
    assert (await uow.session.scalars(sizes)).all() == [1, 2]


async def test_the_signer_and_appends_never_wait_for_each_other(db: Database, clock: ManualClock) -> None:
    """The signer reads committed heads without locking them: with an append in flight it signs
    what is committed, and while it signs, the next append takes the head at once."""
    tenant = uuid.uuid4()

    def unit() -> UnitOfWork:
        return UnitOfWork(db.sessions, source="audit", clock=clock)

    async def bounded(u: UnitOfWork) -> None:  # a wait on a lock fails the test instead of hanging it
        await u.session.execute(text("SET LOCAL lock_timeout = '10s'"))

    async with unit() as first:
        await record(first, [_vendor(tenant, "one")])
        await first.commit()
    async with unit() as appending:
        await record(appending, [_vendor(tenant, "two")])  # holds the head until it commits
        async with unit() as signing:
            await bounded(signing)
            await sign_checkpoints(signing, clock.current, SIGNER)
            note = checkpoint.open_note(await latest_note(signing, tenant_id=tenant), SIGNER.verifier(tenant))
            assert note.size == 1  # the committed log, not the append in flight
            await appending.commit()
            async with unit() as next_append:  # the signer's transaction is still open
                await bounded(next_append)
                await record(next_append, [_vendor(tenant, "three")])
                await next_append.commit()
            await signing.commit()
    async with unit() as reading:
        assert [r.leaf_index for r in await _entries(reading, tenant)] == [0, 1, 2]


async def test_an_edited_entry_is_named_by_verify(uow: UnitOfWork) -> None:
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant) for _ in range(6)])
    await _sign(uow)
    await uow.session.execute(
        update(entries)
        .where(entries.c.tenant_id == tenant, entries.c.leaf_index == 4)
        .values(data={"vendor_name": "Forged"})
    )
    result = await verify(uow, tenant_id=tenant)
    assert (result["ok"], result["first_bad_index"]) == (False, 4)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("occurred_at", datetime(2025, 3, 3, 9, 0, 1, tzinfo=UTC)),
        ("recorded_at", datetime(2024, 1, 1, tzinfo=UTC)),
        ("actor", {"user_id": None, "role": "admin"}),
        ("subject", "another"),
        ("event_id", uuid.UUID(int=7)),
        ("action", "delete"),
        ("leaf", b"not json at all"),
        ("leaf", b'{"event_id": "x"}'),
    ],
)
async def test_any_edited_column_is_named_by_verify_in_a_log_of_several_pages(
    uow: UnitOfWork, column: str, value: Any
) -> None:
    """Each column the leaf covers, and the leaf itself (also as bytes that are not JSON: that
    page is checked entry by entry), edited in one entry of the third page."""
    tenant = uuid.uuid4()
    await record(uow, [_vendor(tenant, f"v{i}") for i in range(9)])
    await _sign(uow)
    assert await verify(uow, tenant_id=tenant, page=3) == {
        "ok": True,
        "checked": 9,
        "first_bad_index": None,
        "reason": None,
    }
    where = (entries.c.tenant_id == tenant) & (entries.c.leaf_index == 7)
    await uow.session.execute(update(entries).where(where).values({column: value}))
    result = await verify(uow, tenant_id=tenant, page=3)
    assert (result["ok"], result["first_bad_index"]) == (False, 7)


async def test_the_issues_examples_through_real_events_keep_names_and_urls_and_mask_contacts(
    uow: UnitOfWork,
) -> None:
    """client.onboarded.v1 and channel.changed.v1 as the consumer gets them (JSON on the wire):
    the client's name and the webhook's URL are recorded as they are, in the row and in the
    signed leaf; the contact email, a phone field and the webhook's secret are not."""
    tenant = uuid.uuid4()
    client = ClientOnboarded(
        client_id=uuid.uuid4(),
        tenant_id=tenant,
        client_name="AuditCov A 1795794877",
        registration_number="REG-1795794877",
        contact_email="cfo@auditcov.example",
        client_type=ClientType.ENTERPRISE,
    )
    channel = ChannelChanged(
        channel_id=uuid.uuid4(),
        kind=ChannelKind.WEBHOOK,
        name="Ops hook",
        config={
            "url": "http://127.0.0.1:9/",
            "secret": {"secret_ref": "env:OPS_HOOK_SECRET"},
            "oncall_phone": "+44 20 7946 0958",
        },
    )
    wire = [
        Envelope.model_validate_json(Envelope.wrap(e, source=s, tenant_id=tenant).model_dump_json())
        for e, s in ((client, "directory"), (channel, "notifications"))
    ]
    await record(uow, [(e, e.data) for e in wire])
    onboarded, changed = await _entries(uow, tenant)

    assert onboarded.data["client_name"] == "AuditCov A 1795794877"
    assert onboarded.data["registration_number"] == "REG-1795794877"
    assert onboarded.data["contact_email"] == "c***@auditcov.example"
    assert changed.data["config"]["url"] == "http://127.0.0.1:9/"
    assert changed.data["config"]["secret"] == "***"
    assert changed.data["config"]["oncall_phone"] == "***58"
    leaves = bytes(onboarded.leaf) + bytes(changed.leaf)
    assert b"AuditCov A 1795794877" in leaves and b"http://127.0.0.1:9/" in leaves
    assert b"cfo@" not in leaves and b"OPS_HOOK_SECRET" not in leaves and b"7946" not in leaves
