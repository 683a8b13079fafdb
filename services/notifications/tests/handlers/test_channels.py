"""Channel commands and the test-send, against the real database."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.problems import Conflict, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind
from contracts.events import ChannelChanged
from notifications.adapters.orm import channels, deliveries
from notifications.handlers import channels as handlers
from notifications.handlers.channels import TEST_EVENT_TYPE, create_channel, update_channel
from notifications.views.channels import get_channel, list_channels

from .support import BOX, CHECKS, LINK, WEBHOOK, caller, client, emitted, user, webhook


async def test_a_channel_keeps_its_secret_sealed_and_announces_itself_redacted(uow: UnitOfWork) -> None:
    who = caller()
    shown = await webhook(uow, who)
    stored = (await uow.session.execute(select(channels).where(channels.c.id == shown["id"]))).one()
    assert "secret" not in stored.config
    assert BOX.open(stored.secrets_encrypted) == {"secret": WEBHOOK["secret"]}
    assert shown["config"]["secret"] == "***"
    (event,) = emitted(uow, ChannelChanged)
    assert event.channel_id == shown["id"] and event.config == shown["config"]
    assert WEBHOOK["secret"] not in uow.emitted[0].model_dump_json()


async def test_a_channel_name_is_taken_once_per_tenant(uow: UnitOfWork) -> None:
    who = caller()
    await webhook(uow, who, "pager")
    with pytest.raises(Conflict, match="a channel named 'pager' exists already"):
        await webhook(uow, who, "pager")
    await webhook(uow, caller(), "pager")  # another tenant may use the name


async def test_a_channel_for_another_tenants_client_is_refused(uow: UnitOfWork) -> None:
    who = caller()
    theirs = await client(uow, uuid4())
    with pytest.raises(Unprocessable, match=f"client_id: no client {theirs}"):
        await webhook(uow, who, client_id=theirs)
    ours = await client(uow, who.tenant_id)
    assert (await webhook(uow, who, client_id=ours))["client_id"] == ours


async def test_another_tenants_channel_answers_like_an_unknown_one(uow: UnitOfWork) -> None:
    owner = caller()
    shown = await webhook(uow, owner)
    stranger = caller()
    for channel_id in (shown["id"], uuid4()):
        with pytest.raises(NotFound, match=f"no channel {channel_id}"):
            await update_channel(uow, stranger, BOX, CHECKS, channel_id, {"enabled": False})
        with pytest.raises(NotFound, match=f"no channel {channel_id}"):
            await get_channel(uow, stranger, BOX, channel_id)
    assert await list_channels(uow, stranger, BOX) == []
    assert (await get_channel(uow, owner, BOX, shown["id"]))["enabled"] is True


async def test_a_change_keeps_a_secret_sent_back_redacted_and_announces_the_change(uow: UnitOfWork) -> None:
    who = caller()
    shown = await webhook(uow, who)
    config = {**shown["config"], "url": "https://hooks.example.com/other"}  # secret still "***"
    changed = await update_channel(uow, who, BOX, CHECKS, shown["id"], {"name": "renamed", "config": config})
    assert changed["name"] == "renamed" and changed["config"]["url"].endswith("/other")
    stored = (await uow.session.execute(select(channels).where(channels.c.id == shown["id"]))).one()
    assert BOX.open(stored.secrets_encrypted) == {"secret": WEBHOOK["secret"]}
    assert [e.name for e in emitted(uow, ChannelChanged)] == ["hooks", "renamed"]


async def test_a_test_send_queues_a_delivery_due_at_once(uow: UnitOfWork) -> None:
    who = caller()
    shown = await webhook(uow, who)
    queued = await handlers.test_send(uow, who, shown["id"], None, LINK)
    row = (
        await uow.session.execute(select(deliveries).where(deliveries.c.id == queued["delivery_id"]))
    ).one()
    assert (row.status, row.event_type, row.channel_id) == ("pending", TEST_EVENT_TYPE, shown["id"])
    envelope = row.message["envelope"]
    assert envelope["time"] == uow.now.isoformat() and envelope["data"]["test"] is True
    assert row.next_attempt_at <= row.created_at  # due at the database's now


async def test_a_test_mail_goes_to_the_caller_when_no_address_is_given(uow: UnitOfWork) -> None:
    tenant = uuid4()
    mail = {"host": "smtp.example.com", "port": 587, "security": "starttls", "from_address": "n@example.com"}
    ada = await user(uow, tenant, email="ada@example.com")
    nobody = caller(tenant)  # not in the recipients replica: no address to fall back on
    shown = await create_channel(
        uow,
        nobody,
        BOX,
        CHECKS,
        kind=ChannelKind.EMAIL,
        name="mail",
        config=mail,
        client_id=None,
        enabled=True,
    )
    with pytest.raises(Unprocessable, match="address: give one"):
        await handlers.test_send(uow, nobody, shown["id"], None, LINK)
    queued = await handlers.test_send(uow, caller(tenant, user_id=ada), shown["id"], None, LINK)
    address = await uow.session.scalar(
        select(deliveries.c.address).where(deliveries.c.id == queued["delivery_id"])
    )
    assert address == "ada@example.com"
