"""What routing reads: a tenant's rules, channels and template overrides, and the recipients,
clients and incident headlines named by a batch of events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.enums import ChannelKind, Severity
from notifications.adapters.incidents import incidents as incident_replica
from notifications.adapters.orm import (
    channels,
    clients,
    preferences,
    recipients,
    routing_rules,
    template_overrides,
)
from notifications.domain import templates
from notifications.domain.routing import (
    Channel,
    Person,
    Preferences,
    Rule,
)


def _rule(row: Any) -> Rule:
    return Rule(
        id=row.id,
        event_types=frozenset(row.event_types),
        channel_ids=tuple(UUID(c) for c in row.channel_ids),
        min_severity=Severity(row.min_severity) if row.min_severity else None,
        client_id=row.client_id,
        user_ids=tuple(UUID(u) for u in row.user_ids),
        roles=tuple(row.roles),
        event_targets=row.event_targets,
        enabled=row.enabled,
    )


def _channel(row: Any) -> Channel:
    config = row.config or {}
    return Channel(
        id=row.id,
        kind=ChannelKind(row.kind),
        client_id=row.client_id,
        enabled=row.enabled,
        to=tuple(config.get("to", ())),
        bot="channel" in config and row.kind == ChannelKind.SLACK.value,
    )


def _person(row: Any) -> Person:
    """A recipient row joined with its preferences (``pref_user`` null when it has none)."""
    prefs = row if getattr(row, "pref_user", None) is not None else None
    return Person(
        user_id=row.user_id,
        email=row.email,
        name=row.name,
        role=row.role,
        status=row.status,
        client_id=row.client_id,
        vendor_id=row.vendor_id,
        prefs=Preferences(
            muted_kinds=frozenset(prefs.muted_kinds) if prefs else frozenset(),
            muted_event_types=frozenset(prefs.muted_event_types) if prefs else frozenset(),
            min_severity=Severity(prefs.pref_min_severity) if prefs and prefs.pref_min_severity else None,
            slack_handle=prefs.slack_handle if prefs else None,
        ),
    )


@dataclass
class TenantData:
    rules: list[Rule]
    channels: dict[UUID, Channel]
    channel_names: dict[UUID, str]
    overrides: dict[tuple[str, str], templates.Override]


async def tenant_data(
    session: AsyncSession, tenant_ids: set[UUID], *, with_rules: bool
) -> dict[UUID, TenantData]:
    data = {t: TenantData([], {}, {}, {}) for t in tenant_ids}
    s = session
    if with_rules:
        for row in await s.execute(
            select(routing_rules).where(routing_rules.c.tenant_id.in_(tenant_ids), routing_rules.c.enabled)
        ):
            data[row.tenant_id].rules.append(_rule(row))
        tenant_ids = {t for t, d in data.items() if d.rules}  # no rules, nothing more to load
    if not tenant_ids:
        return data
    for row in await s.execute(
        select(channels)
        .where(channels.c.tenant_id.in_(tenant_ids))
        .order_by(channels.c.created_at, channels.c.id)
    ):
        data[row.tenant_id].channels[row.id] = _channel(row)
        data[row.tenant_id].channel_names[row.id] = row.name
    for row in await s.execute(
        select(template_overrides).where(template_overrides.c.tenant_id.in_(tenant_ids))
    ):
        data[row.tenant_id].overrides[(row.event_type, row.channel_kind)] = templates.Override(
            row.subject, row.body
        )
    return data


async def people(
    session: AsyncSession, tenant_ids: set[UUID], user_ids: set[UUID], roles: set[str]
) -> dict[UUID, list[Person]]:
    """Recipients of the given tenants named by id or role, with their preferences."""
    found: dict[UUID, list[Person]] = defaultdict(list)
    if not tenant_ids or not (user_ids or roles):
        return found
    conditions = []
    if user_ids:
        conditions.append(recipients.c.user_id.in_(user_ids))
    if roles:
        conditions.append(recipients.c.role.in_(roles))
    query = (
        select(
            recipients,
            preferences.c.user_id.label("pref_user"),
            preferences.c.muted_kinds,
            preferences.c.muted_event_types,
            preferences.c.min_severity.label("pref_min_severity"),
            preferences.c.slack_handle,
        )
        .select_from(recipients)
        .outerjoin(preferences, preferences.c.user_id == recipients.c.user_id)
        .where(recipients.c.tenant_id.in_(tenant_ids), or_(*conditions))
    )
    for row in await session.execute(query):
        found[row.tenant_id].append(_person(row))
    return found


async def client_names(session: AsyncSession, ids: Iterable[UUID | None]) -> dict[UUID, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(clients.c.id, clients.c.name).where(clients.c.id.in_(wanted)))
    return {r.id: r.name for r in rows}


async def headlines(session: AsyncSession, ids: Iterable[UUID | None]) -> dict[UUID, dict[str, Any]]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await session.execute(select(incident_replica).where(incident_replica.c.id.in_(wanted)))
    return {r.id: {**r._mapping, "incident_id": r.id} for r in rows}
