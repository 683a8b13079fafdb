"""Routing-rule commands (create, change, retire). The caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import Role, Severity
from contracts.envelope import new_id
from contracts.events import RoutingRuleChanged
from notifications.adapters import channels as channel_store
from notifications.adapters import rules as rule_store
from notifications.handlers.records import announce, own_client
from notifications.handlers.routing import ROUTABLE_TYPES


async def _check_rule(uow: UnitOfWork, caller: Principal, values: Mapping[str, Any]) -> None:
    unknown_types = [t for t in values["event_types"] if t != "*" and t not in ROUTABLE_TYPES]
    if unknown_types:
        raise Unprocessable(
            f"event_types: {unknown_types[0]} is not routable; one of {', '.join(ROUTABLE_TYPES)} or *",
            field="event_types",
        )
    wanted = set(values["channel_ids"])
    found = await channel_store.CHANNELS.known(uow.session, caller.tenant_id, wanted)
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


async def create_rule(uow: UnitOfWork, caller: Principal, values: Mapping[str, Any]) -> dict[str, Any]:
    await _check_rule(uow, caller, values)
    await own_client(uow, caller, values.get("client_id"))
    row = await rule_store.RULES.add(
        uow.session, {"id": new_id(), "tenant_id": caller.tenant_id, **_rule_values(values)}
    )
    return announce(uow, caller, RoutingRuleChanged, rule_store.shown(row))


async def update_rule(
    uow: UnitOfWork, caller: Principal, rule_id: UUID, changes: Mapping[str, Any]
) -> dict[str, Any]:
    current = rule_store.shown(
        await rule_store.RULES.get(uow.session, caller.tenant_id, rule_id, for_update=True)
    )
    merged = {**current, **changes}
    if "min_severity" in changes and changes["min_severity"] is None:
        merged["min_severity"] = None
    elif isinstance(merged.get("min_severity"), str):
        merged["min_severity"] = Severity(merged["min_severity"])
    await _check_rule(uow, caller, merged)
    if "client_id" in changes:
        await own_client(uow, caller, changes["client_id"])
    row = await rule_store.RULES.change(uow.session, rule_id, _rule_values(merged))
    return announce(uow, caller, RoutingRuleChanged, rule_store.shown(row))


async def delete_rule(uow: UnitOfWork, caller: Principal, rule_id: UUID) -> None:
    """Rules are deleted by disabling them, so the audit trail keeps what they were."""
    await update_rule(uow, caller, rule_id, {"enabled": False})
