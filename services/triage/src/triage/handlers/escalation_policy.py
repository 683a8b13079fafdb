"""Escalation policies: create, replace and delete them (docs/escalation.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Severity
from contracts.envelope import new_id
from contracts.events import EscalationPolicyChanged
from contracts.events.incident import EscalationLevel
from triage.adapters import escalation as store
from triage.adapters import escalation_policy as policies
from triage.domain.escalation import (
    Level,
    validate,
)


@dataclass(frozen=True)
class PolicyInput:
    name: str
    levels: tuple[Level, ...]
    loops: int = 0
    client_id: UUID | None = None
    min_severity: Severity | None = None


async def _validated(uow: UnitOfWork, caller: Principal, data: PolicyInput) -> None:
    problems = validate(data.levels, data.loops)
    unknown = await store.unknown_users(
        uow.session, caller.tenant_id, (u for level in data.levels for u in level.user_ids)
    )
    if unknown:
        problems.append("not users of this tenant: " + ", ".join(str(u) for u in unknown))
    if problems:
        raise Unprocessable("; ".join(problems), errors=problems)


def _announce(
    uow: UnitOfWork, caller: Principal, policy_id: UUID, data: PolicyInput, *, deleted: bool
) -> None:
    uow.emit(
        EscalationPolicyChanged(
            policy_id=policy_id,
            name=data.name,
            client_id=data.client_id,
            min_severity=data.min_severity,
            levels=[
                EscalationLevel(
                    user_ids=list(lv.user_ids), roles=list(lv.roles), delay_minutes=lv.delay_minutes
                )
                for lv in data.levels
            ],
            loops=data.loops,
            deleted=deleted,
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


def _values(data: PolicyInput) -> dict[str, Any]:
    return {
        "name": data.name,
        "client_id": data.client_id,
        "min_severity": data.min_severity.value if data.min_severity else None,
        "levels": store.levels_json(data.levels),
        "loops": data.loops,
    }


async def create_policy(uow: UnitOfWork, caller: Principal, data: PolicyInput) -> dict[str, Any]:
    await _validated(uow, caller, data)
    policy_id = new_id()
    row = await policies.insert_one(
        uow.session, {"id": policy_id, "tenant_id": caller.tenant_id, **_values(data)}
    )
    _announce(uow, caller, policy_id, data, deleted=False)
    return row


async def replace_policy(
    uow: UnitOfWork, caller: Principal, policy_id: UUID, data: PolicyInput
) -> dict[str, Any]:
    """A whole new state for the policy; escalations already running keep the levels they
    started with."""
    await policies.get(uow.session, caller, policy_id, lock=True)
    await _validated(uow, caller, data)
    row = await policies.update_one(uow.session, caller.tenant_id, policy_id, _values(data))
    _announce(uow, caller, policy_id, data, deleted=False)
    return row


async def delete_policy(uow: UnitOfWork, caller: Principal, policy_id: UUID) -> None:
    row = await policies.get(uow.session, caller, policy_id, lock=True)
    await policies.delete_one(uow.session, policy_id)
    data = PolicyInput(
        name=row["name"],
        levels=store.levels_of(row["levels"]),
        loops=row["loops"],
        client_id=row["client_id"],
        min_severity=Severity(row["min_severity"]) if row["min_severity"] else None,
    )
    _announce(uow, caller, policy_id, data, deleted=True)
