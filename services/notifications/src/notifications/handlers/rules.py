"""Routing-rule commands and reads. The caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role, Severity
from contracts.envelope import new_id
from contracts.events import (
    RoutingRuleChanged,
)
from notifications.adapters.orm import (
    channels,
    routing_rules,
)
from notifications.handlers.channels import own_client
from notifications.handlers.routing import ROUTABLE_TYPES

# --------------------------------------------------------------------------- rules


def _rule_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "name": row.name,
        "event_types": list(row.event_types),
        "min_severity": row.min_severity,
        "client_id": row.client_id,
        "channel_ids": [UUID(c) for c in row.channel_ids],
        "user_ids": [UUID(u) for u in row.user_ids],
        "roles": list(row.roles),
        "event_targets": row.event_targets,
        "enabled": row.enabled,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


async def _check_rule(uow: UnitOfWork, caller: Principal, values: Mapping[str, Any]) -> None:
    unknown_types = [t for t in values["event_types"] if t != "*" and t not in ROUTABLE_TYPES]
    if unknown_types:
        raise Unprocessable(
            f"event_types: {unknown_types[0]} is not routable; one of {', '.join(ROUTABLE_TYPES)} or *",
            field="event_types",
        )
    wanted = set(values["channel_ids"])
    found = set(
        await uow.session.scalars(
            select(channels.c.id).where(channels.c.tenant_id == caller.tenant_id, channels.c.id.in_(wanted))
        )
    )
    if missing := wanted - found:
        raise Unprocessable(f"channel_ids: no channel {sorted(map(str, missing))[0]}", field="channel_ids")
    bad_roles = [r for r in values["roles"] if r not in Role._value2member_map_]
    if bad_roles:
        raise Unprocessable(f"roles: {bad_roles[0]} is not a role", field="roles")


def _rule_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": values["name"],
        "event_types": list(dict.fromkeys(values["event_types"])),
        "min_severity": values["min_severity"].value if values.get("min_severity") else None,
        "client_id": values.get("client_id"),
        "channel_ids": [str(c) for c in dict.fromkeys(values["channel_ids"])],
        "user_ids": [str(u) for u in dict.fromkeys(values["user_ids"])],
        "roles": list(dict.fromkeys(values["roles"])),
        "event_targets": values["event_targets"],
        "enabled": values["enabled"],
    }


def _announce_rule(uow: UnitOfWork, caller: Principal, out: Mapping[str, Any]) -> None:
    uow.emit(
        RoutingRuleChanged(
            rule_id=out["id"],
            name=out["name"],
            event_types=out["event_types"],
            min_severity=out["min_severity"],
            client_id=out["client_id"],
            channel_ids=out["channel_ids"],
            user_ids=out["user_ids"],
            roles=out["roles"],
            enabled=out["enabled"],
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


async def create_rule(uow: UnitOfWork, caller: Principal, values: Mapping[str, Any]) -> dict[str, Any]:
    await _check_rule(uow, caller, values)
    await own_client(uow, caller, values.get("client_id"))
    row = (
        await uow.session.execute(
            insert(routing_rules)
            .values(id=new_id(), tenant_id=caller.tenant_id, **_rule_values(values))
            .returning(routing_rules)
        )
    ).one()
    out = _rule_out(row)
    _announce_rule(uow, caller, out)
    return out


async def _rule_row(uow: UnitOfWork, caller: Principal, rule_id: UUID, *, lock: bool = False) -> Any:
    query = select(routing_rules).where(
        routing_rules.c.id == rule_id, routing_rules.c.tenant_id == caller.tenant_id
    )
    if lock:
        query = query.with_for_update()
    row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFound(f"no rule {rule_id}")
    return row


async def update_rule(
    uow: UnitOfWork, caller: Principal, rule_id: UUID, changes: Mapping[str, Any]
) -> dict[str, Any]:
    current = _rule_out(await _rule_row(uow, caller, rule_id, lock=True))
    merged = {**current, **changes}
    if "min_severity" in changes and changes["min_severity"] is None:
        merged["min_severity"] = None
    elif isinstance(merged.get("min_severity"), str):
        merged["min_severity"] = Severity(merged["min_severity"])
    await _check_rule(uow, caller, merged)
    if "client_id" in changes:
        await own_client(uow, caller, changes["client_id"])
    row = (
        await uow.session.execute(
            update(routing_rules)
            .where(routing_rules.c.id == rule_id)
            .values(**_rule_values(merged), updated_at=func.now())
            .returning(routing_rules)
        )
    ).one()
    out = _rule_out(row)
    _announce_rule(uow, caller, out)
    return out


async def delete_rule(uow: UnitOfWork, caller: Principal, rule_id: UUID) -> None:
    """Rules are deleted by disabling them, so the audit trail keeps what they were."""
    await update_rule(uow, caller, rule_id, {"enabled": False})


async def list_rules(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(routing_rules)
        .where(routing_rules.c.tenant_id == caller.tenant_id)
        .order_by(routing_rules.c.created_at, routing_rules.c.id)
    )
    return [_rule_out(r) for r in rows]


async def get_rule(uow: UnitOfWork, caller: Principal, rule_id: UUID) -> dict[str, Any]:
    return _rule_out(await _rule_row(uow, caller, rule_id))
