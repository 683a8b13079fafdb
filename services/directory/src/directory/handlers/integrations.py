"""Monitoring integrations: created, changed, given a new token, deleted. Each change is one
event with the integration's whole state and its revision, which intake's replica follows
(docs/adr/0004-directory-and-access.md): a rotated-away or deleted token is refused there."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import IntegrationKind
from contracts.envelope import new_id
from contracts.events import (
    IntegrationCreated,
    IntegrationDeleted,
    IntegrationTokenRotated,
    IntegrationUpdated,
    LabelRule,
)
from directory.adapters import clients as clients_repo
from directory.adapters import components as components_repo
from directory.adapters import integrations as repo
from directory.domain import integrations as integration_rules
from directory.handlers.shared import ensure_unique, save_changes, state


async def _check_links(uow: UnitOfWork, tenant_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    """The client and default component exist in the tenant and agree; a component alone
    brings its client."""
    if values.get("client_id") is not None:
        await clients_repo.ROWS.get(uow.session, tenant_id, values["client_id"], field="client_id")
    if values.get("default_component_id") is not None:
        component = await components_repo.ROWS.get(
            uow.session, tenant_id, values["default_component_id"], field="default_component_id"
        )
        if values.get("client_id") is None:
            values = {**values, "client_id": component.client_id}
        elif component.client_id != values["client_id"]:
            raise Unprocessable(
                "default_component_id: the component belongs to another client", field="default_component_id"
            )
    return values


def _check_rules(values: dict[str, Any]) -> None:
    rules = [LabelRule.model_validate(r) for r in values.get("impact_rules", [])]
    integration_rules.check_rules(rules, values.get("default_impact", {}))


async def create_integration(uow: UnitOfWork, caller: Principal, values: dict[str, Any]) -> tuple[Any, str]:
    """A monitoring integration and its token (shown once; intake gets only its hash)."""
    _check_rules(values)
    await ensure_unique(uow, repo.ROWS, caller.tenant_id, {"name": values["name"]})
    values = await _check_links(uow, caller.tenant_id, values)
    token = integration_rules.issue_token(IntegrationKind(values["kind"]))
    row = await repo.ROWS.add(
        uow.session,
        {
            "id": new_id(),
            "tenant_id": caller.tenant_id,
            **values,
            "token_prefix": token.prefix,
            "token_sha256": token.sha256,
        },
    )
    uow.emit(
        IntegrationCreated(**state(row, "integration_id")), tenant_id=caller.tenant_id, actor=caller.actor
    )
    return row, token.token


async def _live(uow: UnitOfWork, caller: Principal, integration_id: UUID) -> Any:
    """The tenant's integration, locked for the change; a deleted one is gone (404)."""
    return await repo.ROWS.get(uow.session, caller.tenant_id, integration_id, for_update=True)


async def _save(uow: UnitOfWork, integration_id: UUID, values: dict[str, Any]) -> Any:
    return await repo.save(uow.session, integration_id, values, uow.now)


async def update_integration(
    uow: UnitOfWork, caller: Principal, integration_id: UUID, changes: dict[str, Any]
) -> Any:
    """Change the given fields (name, client, default component, rules, grouping, auto-resolve,
    rate limits); the kind and the token stay."""
    current = await _live(uow, caller, integration_id)
    merged = {**current._mapping, **changes}
    if {"impact_rules", "default_impact"} & changes.keys():
        _check_rules(merged)
    if "name" in changes:
        await ensure_unique(
            uow, repo.ROWS, caller.tenant_id, {"name": changes["name"]}, exclude=integration_id
        )
    if {"client_id", "default_component_id"} & changes.keys():
        links = await _check_links(
            uow, caller.tenant_id, {k: merged[k] for k in ("client_id", "default_component_id")}
        )
        changes = {**changes, "client_id": links["client_id"]}

    async def save(changes: dict[str, Any]) -> Any:
        return await _save(uow, integration_id, changes)

    return await save_changes(uow, caller, current, changes, save, IntegrationUpdated, "integration_id")


async def rotate_integration_token(
    uow: UnitOfWork, caller: Principal, integration_id: UUID
) -> tuple[Any, str]:
    """A new token for the integration, shown once; the old one is refused from the moment
    intake has the event (its replica follows directory within seconds)."""
    current = await _live(uow, caller, integration_id)
    token = integration_rules.issue_token(IntegrationKind(current.kind))
    row = await _save(uow, integration_id, {"token_prefix": token.prefix, "token_sha256": token.sha256})
    uow.emit(
        IntegrationTokenRotated(**state(row, "integration_id")),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return row, token.token


async def delete_integration(uow: UnitOfWork, caller: Principal, integration_id: UUID) -> None:
    """Delete the integration: kept for the record, its token refused, its name free again."""
    await _live(uow, caller, integration_id)
    row = await _save(uow, integration_id, {"deleted_at": uow.now})
    uow.emit(
        IntegrationDeleted(integration_id=row.id, tenant_id=row.tenant_id, revision=row.revision),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
