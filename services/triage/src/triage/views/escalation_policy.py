"""Reads of escalation policies (docs/escalation.md)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from triage.adapters import escalation_policy as policies


async def get_policy(uow: UnitOfWork, caller: Principal, policy_id: UUID) -> dict[str, Any]:
    return await policies.get(uow.session, caller, policy_id)


async def list_policies(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    return await policies.of_caller(uow.session, caller)
