"""Reads of routing rules."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from notifications.adapters import rules as rule_store


async def get_rule(uow: UnitOfWork, caller: Principal, rule_id: UUID) -> dict[str, Any]:
    return rule_store.shown(await rule_store.RULES.get(uow.session, caller.tenant_id, rule_id))


async def list_rules(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    return [rule_store.shown(r) for r in await rule_store.RULES.of_tenant(uow.session, caller.tenant_id)]
