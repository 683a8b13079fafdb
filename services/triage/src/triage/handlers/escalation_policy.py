"""Escalation policies: create, replace, delete and read them (docs/escalation.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Severity
from contracts.envelope import new_id
from contracts.events import EscalationPolicyChanged
from contracts.events.incident import EscalationLevel
from triage.adapters import escalations as store
from triage.adapters.escalations import escalation_policies
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


def _visible(caller: Principal) -> list[Any]:
    # A client contact sees its own client's policies only (not the tenant default, which
    # names staff); other roles with incidents.view see all of the tenant's.
    return [
        escalation_policies.c.tenant_id == caller.tenant_id,
        *caller.scope(escalation_policies.c.client_id, None),
    ]


async def _policy_row(
    uow: UnitOfWork, caller: Principal, policy_id: UUID, *, lock: bool = False
) -> dict[str, Any]:
    query = select(escalation_policies).where(escalation_policies.c.id == policy_id, *_visible(caller))
    row = (await uow.session.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound(f"no escalation policy {policy_id}")
    return dict(row)


async def create_policy(uow: UnitOfWork, caller: Principal, data: PolicyInput) -> dict[str, Any]:
    await _validated(uow, caller, data)
    policy_id = new_id()
    row = (
        (
            await uow.session.execute(
                insert(escalation_policies)
                .values(id=policy_id, tenant_id=caller.tenant_id, **_values(data))
                .returning(escalation_policies)
            )
        )
        .mappings()
        .one()
    )
    _announce(uow, caller, policy_id, data, deleted=False)
    return dict(row)


async def replace_policy(
    uow: UnitOfWork, caller: Principal, policy_id: UUID, data: PolicyInput
) -> dict[str, Any]:
    """A whole new state for the policy; escalations already running keep the levels they
    started with."""
    await _policy_row(uow, caller, policy_id, lock=True)
    await _validated(uow, caller, data)
    row = (
        (
            await uow.session.execute(
                update(escalation_policies)
                .where(
                    escalation_policies.c.id == policy_id, escalation_policies.c.tenant_id == caller.tenant_id
                )
                .values(**_values(data), updated_at=func.now())
                .returning(escalation_policies)
            )
        )
        .mappings()
        .one()
    )
    _announce(uow, caller, policy_id, data, deleted=False)
    return dict(row)


async def delete_policy(uow: UnitOfWork, caller: Principal, policy_id: UUID) -> None:
    row = await _policy_row(uow, caller, policy_id, lock=True)
    await uow.session.execute(delete(escalation_policies).where(escalation_policies.c.id == policy_id))
    data = PolicyInput(
        name=row["name"],
        levels=store.levels_of(row["levels"]),
        loops=row["loops"],
        client_id=row["client_id"],
        min_severity=Severity(row["min_severity"]) if row["min_severity"] else None,
    )
    _announce(uow, caller, policy_id, data, deleted=True)


async def get_policy(uow: UnitOfWork, caller: Principal, policy_id: UUID) -> dict[str, Any]:
    return await _policy_row(uow, caller, policy_id)


async def list_policies(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(escalation_policies).where(*_visible(caller)).order_by(escalation_policies.c.name)
    )
    return [dict(r) for r in rows.mappings()]
