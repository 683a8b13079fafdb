"""Routing-rule commands and reads, against the real database."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import select

from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Severity
from contracts.events import RoutingRuleChanged
from notifications.adapters.orm import routing_rules
from notifications.handlers.rules import create_rule, delete_rule, update_rule
from notifications.views.rules import get_rule, list_rules

from .support import caller, emitted, webhook_channel


def _values(channel_id, **changes):  # type: ignore[no-untyped-def]
    return {
        "name": "page on P1",
        "event_types": ["incident.created.v1", "incident.created.v1"],
        "min_severity": None,
        "client_id": None,
        "channel_ids": [channel_id],
        "user_ids": [],
        "roles": ["incident_manager"],
        "event_targets": False,
        "enabled": True,
    } | changes


async def test_a_rule_names_only_routable_types_and_the_tenants_own_channels(uow: UnitOfWork) -> None:
    who = caller()
    theirs = await webhook_channel(uow, caller())
    with pytest.raises(Unprocessable, match=f"channel_ids: no channel {theirs}"):
        await create_rule(uow, who, _values(theirs))
    ours = await webhook_channel(uow, who)
    with pytest.raises(Unprocessable, match=r"event_types: user\.registered\.v1 is not routable"):
        await create_rule(uow, who, _values(ours, event_types=["user.registered.v1"]))
    with pytest.raises(Unprocessable, match="roles: pilot is not a role"):
        await create_rule(uow, who, _values(ours, roles=["pilot"]))
    assert await list_rules(uow, who) == []


async def test_a_rule_is_stored_deduplicated_changed_and_retired_with_an_event_each(uow: UnitOfWork) -> None:
    who = caller()
    channel_id = await webhook_channel(uow, who)
    created = await create_rule(uow, who, _values(channel_id))
    assert created["event_types"] == ["incident.created.v1"] and created["channel_ids"] == [channel_id]
    changed = await update_rule(uow, who, created["id"], {"min_severity": Severity.P2})
    assert changed["min_severity"] == "P2" and changed["name"] == "page on P1"
    await delete_rule(uow, who, created["id"])
    stored = (
        await uow.session.execute(select(routing_rules).where(routing_rules.c.id == created["id"]))
    ).one()
    assert stored.enabled is False  # kept, disabled: the audit trail still shows what it was
    events = emitted(uow, RoutingRuleChanged)
    assert [(e.rule_id, e.min_severity, e.enabled) for e in events] == [
        (created["id"], None, True),
        (created["id"], Severity.P2, True),
        (created["id"], Severity.P2, False),
    ]
    assert (await get_rule(uow, who, created["id"]))["enabled"] is False


async def test_another_tenants_rule_answers_like_an_unknown_one(uow: UnitOfWork) -> None:
    owner = caller()
    rule = await create_rule(uow, owner, _values(await webhook_channel(uow, owner)))
    stranger = caller()
    for rule_id in (rule["id"], uuid4()):
        with pytest.raises(NotFound, match=f"no rule {rule_id}"):
            await get_rule(uow, stranger, rule_id)
        with pytest.raises(NotFound, match=f"no rule {rule_id}"):
            await delete_rule(uow, stranger, rule_id)
    assert [r["id"] for r in await list_rules(uow, owner)] == [rule["id"]]
