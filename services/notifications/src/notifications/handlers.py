"""Notifications handlers: routing events into deliveries, direct deliveries (recorded
communications, reminders), the replicas, channel/rule/template/preference commands, and
the delivery workers' steps. One function each; the caller's unit of work commits."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.consumer import Batched, Handler, batched
from backbone.problems import Conflict, NotFound, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, DeliveryMethod, Role, Severity, UserStatus
from contracts.envelope import SYSTEM, Envelope, EventData, new_id, utcnow
from contracts.events import (
    ChannelChanged,
    ClientOnboarded,
    ClientUpdated,
    CommunicationRecorded,
    IncidentEvent,
    NotificationFailed,
    NotificationPreferencesChanged,
    NotificationSent,
    ReminderDispatched,
    RoutingRuleChanged,
    SlaAtRisk,
    SlaBreached,
    TemplateOverrideChanged,
    UserRegistered,
    UserUpdated,
)
from contracts.events.incident import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCommentAdded,
    IncidentCreated,
    IncidentDelegated,
    IncidentEscalated,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTriaged,
    IncidentUnassigned,
    IncidentUpdated,
)
from notifications.adapters.incidents import incidents as incident_replica
from notifications.adapters.orm import (
    channels,
    clients,
    deliveries,
    preferences,
    recipients,
    routing_rules,
    template_overrides,
)
from notifications.adapters.secrets import SecretBox, SecretsUnavailable
from notifications.adapters.templates import TemplateRunner
from notifications.domain import channels as channel_config
from notifications.domain import templates
from notifications.domain.delivery import DeliveryState, RetryPolicy, SendFailed
from notifications.domain.routing import (
    CHANNEL_RECIPIENT,
    Channel,
    Person,
    Preferences,
    Rule,
    Target,
    direct_target,
    facts_of,
    pick_channel,
    plan,
    user_key,
)

# Events rules may route (the incident lifecycle and SLA clocks).
ROUTABLE: tuple[type[EventData], ...] = (
    IncidentCreated,
    IncidentUpdated,
    IncidentTriaged,
    IncidentStatusChanged,
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentUnassigned,
    IncidentDelegated,
    IncidentEscalated,
    IncidentResolved,
    IncidentClosed,
    IncidentReopened,
    IncidentCommentAdded,
    SlaAtRisk,
    SlaBreached,
)
ROUTABLE_TYPES = tuple(cls.event_type for cls in ROUTABLE)
TEST_EVENT_TYPE = "notification.test"
NO_CHANNEL = UUID(int=0)  # delivery row of a method no channel has (announced with channel_id None)


# --------------------------------------------------------------------------- loading for routing


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
class _TenantData:
    rules: list[Rule]
    channels: dict[UUID, Channel]
    channel_names: dict[UUID, str]
    overrides: dict[tuple[str, str], templates.Override]


async def _tenant_data(
    uow: UnitOfWork, tenant_ids: set[UUID], *, with_rules: bool
) -> dict[UUID, _TenantData]:
    data = {t: _TenantData([], {}, {}, {}) for t in tenant_ids}
    s = uow.session
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


async def _people(
    uow: UnitOfWork, tenant_ids: set[UUID], user_ids: set[UUID], roles: set[str]
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
    for row in await uow.session.execute(query):
        found[row.tenant_id].append(_person(row))
    return found


async def _client_names(uow: UnitOfWork, ids: Iterable[UUID | None]) -> dict[UUID, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await uow.session.execute(select(clients.c.id, clients.c.name).where(clients.c.id.in_(wanted)))
    return {r.id: r.name for r in rows}


async def _headlines(uow: UnitOfWork, ids: Iterable[UUID | None]) -> dict[UUID, dict[str, Any]]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = await uow.session.execute(select(incident_replica).where(incident_replica.c.id.in_(wanted)))
    return {r.id: {**r._mapping, "incident_id": r.id} for r in rows}


def _override(data: _TenantData, event_type: str, kind: ChannelKind) -> templates.Override | None:
    return data.overrides.get((event_type, kind.value)) or data.overrides.get(("*", kind.value))


async def _message(
    target: Target,
    envelope: Envelope,
    data: _TenantData,
    runner: TemplateRunner,
    *,
    link_template: str,
    client_name: str | None,
    headline: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What the delivery will send (``message``), rendered now so every retry sends the same
    thing, or why it cannot be (``error``: a tenant's template that failed; that delivery
    fails, every other goes on)."""
    kind = target.channel.kind
    if kind is ChannelKind.WEBHOOK:
        return {"message": {"envelope": envelope.model_dump(mode="json")}}
    ctx = templates.context(
        envelope.type,
        envelope.data,
        client_name=client_name,
        recipient=target.user.name if target.user else None,
        link_template=link_template,
        headline=headline,
        mentions=target.mentions,
    )
    override = _override(data, envelope.type, kind)
    if override is None:
        return {"message": templates.render(kind, envelope.type, ctx)}  # ours: rendered here
    try:
        return {"message": await runner.render(kind, envelope.type, ctx, override)}
    except templates.TemplateError as exc:
        return {"error": f"the tenant's {kind.value} template failed: {exc}"[:500]}


def _row(
    envelope: Envelope,
    target_channel_id: UUID,
    kind: str,
    recipient_key: str,
    *,
    user_id: UUID | None = None,
    address: str | None = None,
    incident_id: UUID | None = None,
    communication_id: UUID | None = None,
    reminder_id: UUID | None = None,
    message: dict[str, Any] | None = None,
    error: str | None = None,
    now: datetime,
) -> dict[str, Any]:
    assert envelope.tenantid is not None
    return {
        "id": new_id(),
        "tenant_id": envelope.tenantid,
        "event_id": envelope.id,
        "event_type": envelope.type,
        "recipient_key": recipient_key,
        "channel_id": target_channel_id,
        "channel_kind": kind,
        "recipient_user_id": user_id,
        "address": address,
        "incident_id": incident_id,
        "communication_id": communication_id,
        "reminder_id": reminder_id,
        "message": message or {},
        "status": DeliveryState.FAILED.value if error else DeliveryState.PENDING.value,
        "last_error": error,
        "failed_at": now if error else None,
        "next_attempt_at": now,
    }


async def _insert(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Insert deliveries once per (event, recipient, channel); a row that fails at once
    (nothing can send it) announces its failure, only when it is new."""
    if not rows:
        return
    by_id = {r["id"]: r for r in rows}
    inserted = await uow.session.scalars(
        insert(deliveries)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_deliveries_event_recipient_channel")
        .returning(deliveries.c.id)
    )
    for delivery_id in inserted:
        row = by_id[delivery_id]
        if row["status"] == DeliveryState.FAILED.value:
            uow.emit(
                NotificationFailed(
                    **_delivery_fields(row, attempts=0),
                    failed_at=row["failed_at"],
                    error=row["last_error"],
                ),
                tenant_id=row["tenant_id"],
            )


def _delivery_fields(row: Mapping[str, Any], *, attempts: int) -> dict[str, Any]:
    kind = row["channel_kind"]
    return {
        "delivery_id": row["id"],
        "channel_id": None if row["channel_id"] == NO_CHANNEL else row["channel_id"],
        # A method no channel has (sms, phone, portal) has no channel kind; ``method`` names it.
        "channel_kind": ChannelKind(kind) if kind in ChannelKind._value2member_map_ else None,
        "method": DeliveryMethod(kind) if kind in DeliveryMethod._value2member_map_ else None,
        "source_event_id": row["event_id"],
        "source_event_type": row["event_type"],
        "incident_id": row["incident_id"],
        "recipient_user_id": row["recipient_user_id"],
        "communication_id": row["communication_id"],
        "reminder_id": row["reminder_id"],
        "attempts": attempts,
    }


# --------------------------------------------------------------------------- consumers


def router(link_template: str, runner: TemplateRunner) -> Batched:
    """The consumer of routable events: each event × matching rule → delivery rows."""

    async def route(uow: UnitOfWork, batch: list[tuple[Envelope, EventData]]) -> None:
        items = [(e, p, facts_of(e, p)) for e, p in batch if e.tenantid is not None]
        if not items:
            return
        tenant_data = await _tenant_data(uow, {f.tenant_id for _, _, f in items}, with_rules=True)
        user_ids: set[UUID] = set()
        roles: set[str] = set()
        all_rules = [rule for data in tenant_data.values() for rule in data.rules]
        for rule in all_rules:
            user_ids.update(rule.user_ids)
            roles.update(rule.roles)
        if any(rule.event_targets for rule in all_rules):
            for _, _, f in items:
                user_ids.update(f.target_user_ids)
                roles.update(f.target_roles)
        people = await _people(uow, {t for t, d in tenant_data.items() if d.rules}, user_ids, roles)
        names = await _client_names(uow, (f.client_id for _, _, f in items))
        heads = await _headlines(
            uow, (f.incident_id for _, p, f in items if not isinstance(p, IncidentEvent))
        )
        now = utcnow()
        rows = []
        for envelope, _payload, facts in items:
            data = tenant_data[facts.tenant_id]
            if not data.rules:
                continue
            for target in plan(facts, data.rules, data.channels, people.get(facts.tenant_id, [])):
                rows.append(
                    _row(
                        envelope,
                        target.channel.id,
                        target.channel.kind.value,
                        target.recipient_key,
                        user_id=target.user.user_id if target.user else None,
                        address=target.address,
                        incident_id=facts.incident_id,
                        now=now,
                        **await _message(
                            target,
                            envelope,
                            data,
                            runner,
                            link_template=link_template,
                            client_name=names.get(facts.client_id) if facts.client_id else None,
                            headline=heads.get(facts.incident_id) if facts.incident_id else None,
                        ),
                    )
                )
        await _insert(uow, rows)

    return batched(route)


def _direct_target(
    data: _TenantData,
    method: str,
    user_id: UUID | None,
    person: Person | None,
    head: Mapping[str, Any] | None,
) -> Target | str:
    """Where a direct message goes (the recipient's client's channel of the method, else the
    tenant's), or why it cannot be sent."""
    if method not in ChannelKind._value2member_map_:
        return f"delivery method {method} cannot be sent: no channel of that kind exists"
    if user_id and person is None:
        return f"recipient user {user_id} is not known here"
    if person is not None and person.status != UserStatus.ACTIVE.value:
        return f"recipient user {user_id} is {person.status}"
    client_id = person.client_id if person else (head or {}).get("client_id")
    channel = pick_channel(data.channels.values(), ChannelKind(method), client_id)
    if channel is None:
        return f"no enabled {method} channel for this recipient"
    return direct_target(channel, person) or f"no {method} address for this recipient"


def direct(link_template: str, runner: TemplateRunner) -> Batched:
    """Recorded communications and dispatched reminders go to the named people through the
    tenant's (the recipient's client's, if it has one) channel of the method, without rules."""

    async def deliver(uow: UnitOfWork, batch: list[tuple[Envelope, EventData]]) -> None:
        items = [(e, p) for e, p in batch if e.tenantid is not None]
        if not items:
            return
        tenants = {e.tenantid for e, _ in items if e.tenantid}
        tenant_data = await _tenant_data(uow, tenants, with_rules=False)
        wanted: set[UUID] = set()
        for _, p in items:
            if isinstance(p, CommunicationRecorded) and p.recipient_user_id:
                wanted.add(p.recipient_user_id)
            if isinstance(p, ReminderDispatched):
                wanted.update(p.user_ids)
        people = {p.user_id: p for ps in (await _people(uow, tenants, wanted, set())).values() for p in ps}
        heads = await _headlines(uow, (getattr(p, "incident_id", None) for _, p in items))
        names = await _client_names(uow, (h.get("client_id") for h in heads.values()))
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for envelope, payload in items:
            assert envelope.tenantid is not None
            data = tenant_data[envelope.tenantid]
            if isinstance(payload, CommunicationRecorded):
                method: str = payload.delivery_method.value
                users: list[UUID | None] = (
                    [payload.recipient_user_id] if payload.recipient_user_id else [None]
                )
                ids: dict[str, Any] = {"communication_id": payload.communication_id}
            elif isinstance(payload, ReminderDispatched):
                if payload.outcome != "sent" and payload.channel.value != "sms":
                    continue
                method = payload.channel.value
                users = list(payload.user_ids) or [None]
                ids = {"reminder_id": payload.reminder_id}
            else:
                continue
            head = heads.get(payload.incident_id)
            for user_id in users:
                person = people.get(user_id) if user_id else None
                key = user_key(user_id) if user_id else CHANNEL_RECIPIENT
                common = {"user_id": user_id, "incident_id": payload.incident_id, **ids, "now": now}
                target = _direct_target(data, method, user_id, person, head)
                if isinstance(target, str):  # nothing can send it: a failed row says why
                    rows.append(_row(envelope, NO_CHANNEL, method, key, error=target, **common))
                    continue
                client_name = names.get(head["client_id"]) if head and head["client_id"] else None
                rows.append(
                    _row(
                        envelope,
                        target.channel.id,
                        target.channel.kind.value,
                        key,
                        address=target.address,
                        **await _message(
                            target,
                            envelope,
                            data,
                            runner,
                            link_template=link_template,
                            client_name=client_name,
                            headline=head,
                        ),
                        **common,
                    )
                )
        await _insert(uow, rows)

    return batched(deliver)


async def replicate_recipients(
    uow: UnitOfWork, batch: list[tuple[Envelope, UserRegistered | UserUpdated]]
) -> None:
    """Keep addresses and roles of users (newest event per user wins)."""
    latest = {e.user_id: e for _, e in batch}
    stmt = insert(recipients).values(
        [
            {
                "user_id": e.user_id,
                "tenant_id": e.tenant_id,
                "email": e.email,
                "name": e.name,
                "role": e.role.value,
                "status": e.status.value,
                "client_id": e.client_id,
                "vendor_id": e.vendor_id,
            }
            for e in latest.values()
        ]
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id"],
            set_={c: stmt.excluded[c] for c in ("email", "name", "role", "status", "client_id", "vendor_id")},
        )
    )


async def replicate_clients(
    uow: UnitOfWork, batch: list[tuple[Envelope, ClientOnboarded | ClientUpdated]]
) -> None:
    latest = {e.client_id: e for _, e in batch}
    stmt = insert(clients).values(
        [{"id": e.client_id, "tenant_id": e.tenant_id, "name": e.client_name} for e in latest.values()]
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(index_elements=["id"], set_={"name": stmt.excluded.name})
    )


def delivery_handlers(link_template: str, runner: TemplateRunner) -> dict[str, Handler]:
    """This module's consumers by event type (main.py adds the communications' ones)."""
    routed = router(link_template, runner)
    users = batched(replicate_recipients)
    client_replica = batched(replicate_clients)
    directly = direct(link_template, runner)
    result: dict[str, Handler] = {t: routed for t in ROUTABLE_TYPES}
    result |= {UserRegistered.event_type: users, UserUpdated.event_type: users}
    result |= {ClientOnboarded.event_type: client_replica, ClientUpdated.event_type: client_replica}
    result |= {CommunicationRecorded.event_type: directly, ReminderDispatched.event_type: directly}
    return result


# --------------------------------------------------------------------------- channels


def _view(row: Any, box: SecretBox) -> dict[str, Any]:
    """A channel as shown: its config with the secret fields it has redacted."""
    kind = ChannelKind(row.kind)
    names: set[str] = set()
    if row.secrets_encrypted:
        try:
            names = set(box.open(row.secrets_encrypted))
        except SecretsUnavailable:  # no (or another) key here: show every secret field as set
            names = set(channel_config.SECRET_FIELDS[kind])
    return {
        "id": row.id,
        "tenant_id": row.tenant_id,
        "client_id": row.client_id,
        "kind": kind,
        "name": row.name,
        "config": channel_config.redact(kind, row.config, names),
        "enabled": row.enabled,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _announce_channel(uow: UnitOfWork, caller: Principal, view: Mapping[str, Any]) -> None:
    uow.emit(
        ChannelChanged(
            channel_id=view["id"],
            kind=view["kind"],
            name=view["name"],
            client_id=view["client_id"],
            config=view["config"],  # already redacted: secrets never leave in clear
            enabled=view["enabled"],
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


def _seal(
    box: SecretBox,
    checks: channel_config.Checks,
    caller: Principal,
    kind: ChannelKind,
    config: Mapping[str, Any],
    stored: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    try:
        public, secrets = channel_config.split(
            kind, config, stored, refs=checks.refs(caller.tenant_id), policy=checks.policy
        )
    except channel_config.InvalidConfig as exc:
        raise Unprocessable(str(exc), field=f"config.{exc.field}" if exc.field else "config") from None
    try:
        return public, box.seal(secrets)
    except SecretsUnavailable as exc:
        raise Unprocessable(str(exc), field="config") from None


async def _name_free(uow: UnitOfWork, tenant_id: UUID, name: str, except_id: UUID | None = None) -> None:
    query = select(channels.c.id).where(channels.c.tenant_id == tenant_id, channels.c.name == name)
    if except_id:
        query = query.where(channels.c.id != except_id)
    if await uow.session.scalar(query):
        raise Conflict(f"a channel named {name!r} exists already")


async def _own_client(uow: UnitOfWork, caller: Principal, client_id: UUID | None) -> None:
    """A client id must be one of the caller's tenant's clients (as replicated from directory)."""
    if client_id is None:
        return
    known = await uow.session.scalar(
        select(clients.c.id).where(clients.c.id == client_id, clients.c.tenant_id == caller.tenant_id)
    )
    if known is None:
        raise Unprocessable(f"client_id: no client {client_id}", field="client_id")


async def create_channel(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    checks: channel_config.Checks,
    *,
    kind: ChannelKind,
    name: str,
    config: Mapping[str, Any],
    client_id: UUID | None,
    enabled: bool,
) -> dict[str, Any]:
    public, sealed = _seal(box, checks, caller, kind, config)
    await _own_client(uow, caller, client_id)
    await _name_free(uow, caller.tenant_id, name)
    row = (
        await uow.session.execute(
            insert(channels)
            .values(
                id=new_id(),
                tenant_id=caller.tenant_id,
                client_id=client_id,
                kind=kind.value,
                name=name,
                config=public,
                secrets_encrypted=sealed,
                enabled=enabled,
            )
            .returning(channels)
        )
    ).one()
    view = _view(row, box)
    _announce_channel(uow, caller, view)
    return view


async def _channel_row(uow: UnitOfWork, caller: Principal, channel_id: UUID, *, lock: bool = False) -> Any:
    query = select(channels).where(channels.c.id == channel_id, channels.c.tenant_id == caller.tenant_id)
    if lock:
        query = query.with_for_update()
    row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFound(f"no channel {channel_id}")
    return row


async def update_channel(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    checks: channel_config.Checks,
    channel_id: UUID,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    row = await _channel_row(uow, caller, channel_id, lock=True)
    kind = ChannelKind(row.kind)
    values: dict[str, Any] = {"updated_at": func.now()}
    if "name" in changes:
        await _name_free(uow, caller.tenant_id, changes["name"], except_id=channel_id)
        values["name"] = changes["name"]
    if "enabled" in changes:
        values["enabled"] = changes["enabled"]
    if "client_id" in changes:
        await _own_client(uow, caller, changes["client_id"])
        values["client_id"] = changes["client_id"]
    if "config" in changes:
        try:
            stored = box.open(row.secrets_encrypted) if row.secrets_encrypted else {}
        except SecretsUnavailable as exc:
            raise Unprocessable(str(exc), field="config") from None
        values["config"], values["secrets_encrypted"] = _seal(
            box, checks, caller, kind, changes["config"], stored
        )
    updated = (
        await uow.session.execute(
            update(channels).where(channels.c.id == channel_id).values(values).returning(channels)
        )
    ).one()
    view = _view(updated, box)
    _announce_channel(uow, caller, view)
    return view


async def get_channel(uow: UnitOfWork, caller: Principal, box: SecretBox, channel_id: UUID) -> dict[str, Any]:
    return _view(await _channel_row(uow, caller, channel_id), box)


async def list_channels(uow: UnitOfWork, caller: Principal, box: SecretBox) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(channels)
        .where(channels.c.tenant_id == caller.tenant_id)
        .order_by(channels.c.created_at, channels.c.id)
    )
    return [_view(r, box) for r in rows]


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
    await _own_client(uow, caller, values.get("client_id"))
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
        await _own_client(uow, caller, changes["client_id"])
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


# --------------------------------------------------------------------------- templates, preferences


async def put_template(
    uow: UnitOfWork,
    caller: Principal,
    runner: TemplateRunner,
    event_type: str,
    kind: ChannelKind,
    subject: str | None,
    body: str,
) -> dict[str, Any]:
    if kind is ChannelKind.WEBHOOK:
        raise Unprocessable("webhooks send the event envelope; they have no template", field="kind")
    known = (*ROUTABLE_TYPES, CommunicationRecorded.event_type, ReminderDispatched.event_type, "*")
    if event_type not in known:
        raise Unprocessable(f"event_type: {event_type} is not one notifications sends", field="event_type")
    try:
        await runner.check(kind, subject, body)
    except templates.TemplateError as exc:
        raise Unprocessable(f"template: {exc}", field="body") from None
    stmt = insert(template_overrides).values(
        id=new_id(),
        tenant_id=caller.tenant_id,
        event_type=event_type,
        channel_kind=kind.value,
        subject=subject,
        body=body,
    )
    row = (
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "event_type", "channel_kind"],
                set_={"subject": stmt.excluded.subject, "body": stmt.excluded.body, "updated_at": func.now()},
            ).returning(template_overrides)
        )
    ).one()
    uow.emit(
        TemplateOverrideChanged(
            template_event_type=event_type, channel_kind=kind, subject_template=subject, body_template=body
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return dict(row._mapping)


async def delete_template(uow: UnitOfWork, caller: Principal, event_type: str, kind: ChannelKind) -> None:
    result = await uow.session.execute(
        delete(template_overrides).where(
            template_overrides.c.tenant_id == caller.tenant_id,
            template_overrides.c.event_type == event_type,
            template_overrides.c.channel_kind == kind.value,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"no override for {event_type} on {kind.value}")
    uow.emit(
        TemplateOverrideChanged(template_event_type=event_type, channel_kind=kind, removed=True),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )


async def list_templates(uow: UnitOfWork, caller: Principal) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(template_overrides)
        .where(template_overrides.c.tenant_id == caller.tenant_id)
        .order_by(template_overrides.c.event_type, template_overrides.c.channel_kind)
    )
    return [dict(r._mapping) for r in rows]


async def _known_user(uow: UnitOfWork, caller: Principal, user_id: UUID) -> None:
    known = await uow.session.scalar(
        select(recipients.c.user_id).where(
            recipients.c.user_id == user_id, recipients.c.tenant_id == caller.tenant_id
        )
    )
    if known is None:
        raise NotFound(f"no user {user_id}")


async def put_preferences(
    uow: UnitOfWork, caller: Principal, user_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    await _known_user(uow, caller, user_id)
    row = {
        "user_id": user_id,
        "tenant_id": caller.tenant_id,
        "muted_kinds": sorted({k.value for k in values["muted_kinds"]}),
        "muted_event_types": sorted(set(values["muted_event_types"])),
        "min_severity": values["min_severity"].value if values.get("min_severity") else None,
        "slack_handle": values.get("slack_handle"),
    }
    stmt = insert(preferences).values(row)
    saved = (
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id"],
                set_={k: stmt.excluded[k] for k in row if k not in ("user_id", "tenant_id")}
                | {"updated_at": func.now()},
                where=preferences.c.tenant_id == caller.tenant_id,
            ).returning(preferences)
        )
    ).one()
    uow.emit(
        NotificationPreferencesChanged(
            user_id=user_id,
            muted_kinds=row["muted_kinds"],
            muted_event_types=row["muted_event_types"],
            min_severity=row["min_severity"],
            slack_handle=row["slack_handle"],
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return dict(saved._mapping)


async def get_preferences(uow: UnitOfWork, caller: Principal, user_id: UUID) -> dict[str, Any]:
    await _known_user(uow, caller, user_id)
    row = (
        await uow.session.execute(
            select(preferences).where(
                preferences.c.user_id == user_id, preferences.c.tenant_id == caller.tenant_id
            )
        )
    ).first()
    if row is not None:
        return dict(row._mapping)
    return {
        "user_id": user_id,
        "tenant_id": caller.tenant_id,
        "muted_kinds": [],
        "muted_event_types": [],
        "min_severity": None,
        "slack_handle": None,
        "updated_at": None,
    }


# --------------------------------------------------------------------------- test-send, deliveries


async def test_send(
    uow: UnitOfWork,
    caller: Principal,
    box: SecretBox,
    channel_id: UUID,
    address: str | None,
    link_template: str,
) -> dict[str, Any]:
    """A sample message through the channel, queued like any delivery (and sent by its worker)."""
    row = await _channel_row(uow, caller, channel_id)
    kind = ChannelKind(row.kind)
    now = utcnow()
    event_id = new_id()
    envelope = {
        "specversion": "1.0",
        "id": str(event_id),
        "type": TEST_EVENT_TYPE,
        "source": "notifications",
        "time": now.isoformat(),
        "subject": str(channel_id),
        "tenantid": str(caller.tenant_id),
        "data": {"channel_id": str(channel_id), "channel_name": row.name, "test": True},
    }
    if kind is ChannelKind.WEBHOOK:
        message: dict[str, Any] = {"envelope": envelope}
    else:
        ctx = templates.context(
            TEST_EVENT_TYPE, {}, extra={"channel_name": row.name}, link_template=link_template
        )
        message = templates.render(kind, TEST_EVENT_TYPE, ctx)
    if kind is ChannelKind.EMAIL and not (address or (row.config or {}).get("to")):
        email = await uow.session.scalar(
            select(recipients.c.email).where(recipients.c.user_id == caller.user_id)
        )
        address = email or None
        if not address:
            raise Unprocessable("address: give one; the channel has no `to` addresses", field="address")
    delivery = {
        "id": new_id(),
        "tenant_id": caller.tenant_id,
        "event_id": event_id,
        "event_type": TEST_EVENT_TYPE,
        "recipient_key": "test",
        "channel_id": channel_id,
        "channel_kind": kind.value,
        "recipient_user_id": None,
        "address": address,
        "message": message,
        "next_attempt_at": now,
    }
    await uow.session.execute(insert(deliveries).values(delivery))
    return {"delivery_id": delivery["id"], "status": DeliveryState.PENDING.value}


_DELIVERY_COLUMNS = (
    deliveries.c.id,
    deliveries.c.tenant_id,
    deliveries.c.event_id,
    deliveries.c.event_type,
    deliveries.c.channel_id,
    deliveries.c.channel_kind,
    deliveries.c.recipient_key,
    deliveries.c.recipient_user_id,
    deliveries.c.incident_id,
    deliveries.c.communication_id,
    deliveries.c.reminder_id,
    deliveries.c.status,
    deliveries.c.attempts,
    deliveries.c.next_attempt_at,
    deliveries.c.last_error,
    deliveries.c.sent_at,
    deliveries.c.failed_at,
    deliveries.c.created_at,
)


async def get_delivery(uow: UnitOfWork, caller: Principal, delivery_id: UUID) -> dict[str, Any]:
    row = (
        await uow.session.execute(
            select(*_DELIVERY_COLUMNS).where(
                deliveries.c.id == delivery_id, deliveries.c.tenant_id == caller.tenant_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    return dict(row._mapping)


async def list_deliveries(
    uow: UnitOfWork,
    caller: Principal,
    *,
    channel_id: UUID | None,
    status: str | None,
    event_id: UUID | None,
    incident_id: UUID | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    conditions = [deliveries.c.tenant_id == caller.tenant_id]
    for column, value in (
        (deliveries.c.channel_id, channel_id),
        (deliveries.c.status, status),
        (deliveries.c.event_id, event_id),
        (deliveries.c.incident_id, incident_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if after is not None:
        conditions.append(deliveries.c.id < after)
    rows = await uow.session.execute(
        select(*_DELIVERY_COLUMNS).where(and_(*conditions)).order_by(deliveries.c.id.desc()).limit(limit)
    )
    return [dict(r._mapping) for r in rows]


# --------------------------------------------------------------------------- the workers' steps


# Leases and retry times are read and written with the database's clock, never a replica's:
# replicas whose clocks disagree would otherwise take each other's leased deliveries early.


async def due_channels(uow: UnitOfWork) -> list[UUID]:
    """Channels with deliveries due now (pending, or claimed by a sender whose lease ran out)."""
    rows = await uow.session.scalars(
        select(deliveries.c.channel_id)
        .where(
            deliveries.c.status.in_((DeliveryState.PENDING.value, DeliveryState.SENDING.value)),
            deliveries.c.next_attempt_at <= func.now(),
        )
        .distinct()
    )
    return list(rows)


async def claim(uow: UnitOfWork, channel_id: UUID, lease_s: float) -> Any:
    """Take the channel's next due delivery: counted as an attempt and leased before it is sent
    (record-then-send), so a crash leaves it for another worker after the lease, never lost."""
    next_due = (
        select(deliveries.c.id)
        .where(
            deliveries.c.channel_id == channel_id,
            deliveries.c.status.in_((DeliveryState.PENDING.value, DeliveryState.SENDING.value)),
            deliveries.c.next_attempt_at <= func.now(),
        )
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        await uow.session.execute(
            update(deliveries)
            .where(deliveries.c.id == next_due)
            .values(
                status=DeliveryState.SENDING.value,
                attempts=deliveries.c.attempts + 1,
                next_attempt_at=func.now() + timedelta(seconds=lease_s),
                updated_at=func.now(),
            )
            .returning(deliveries)
        )
    ).first()


async def channel_for_sending(
    uow: UnitOfWork, channel_id: UUID, box: SecretBox, checks: channel_config.Checks
) -> dict[str, Any]:
    """The channel's full config (secrets decrypted, references read from the environment, if
    the tenant may read them); raises SendFailed (permanent) when the channel cannot be used."""
    row = (await uow.session.execute(select(channels).where(channels.c.id == channel_id))).first()
    if row is None:
        raise SendFailed("the channel no longer exists", transient=False)
    if not row.enabled:
        raise SendFailed("the channel is disabled", transient=False)
    try:
        config = channel_config.resolve(
            row.config, box.open(row.secrets_encrypted), os.environ, checks.refs(row.tenant_id)
        )
    except (SecretsUnavailable, channel_config.MissingSecret) as exc:  # a person must fix it
        raise SendFailed(str(exc), transient=False) from None
    except Exception as exc:  # never echo what a stored value may hold
        raise SendFailed(
            f"the channel's config cannot be read: {type(exc).__name__}", transient=False
        ) from None
    return config


async def mark_sent(uow: UnitOfWork, claimed: Any) -> bool:
    """Record the send; only the claim that is still current may (a late worker whose lease was
    taken over records nothing)."""
    now = await uow.session.scalar(
        update(deliveries)
        .where(
            deliveries.c.id == claimed.id,
            deliveries.c.status == DeliveryState.SENDING.value,
            deliveries.c.attempts == claimed.attempts,
        )
        .values(status=DeliveryState.SENT.value, sent_at=func.now(), last_error=None, updated_at=func.now())
        .returning(deliveries.c.sent_at)
    )
    if now is None:
        return False
    uow.emit(
        NotificationSent(**_delivery_fields(claimed._mapping, attempts=claimed.attempts), sent_at=now),
        tenant_id=claimed.tenant_id,
        actor=SYSTEM,
    )
    return True


async def mark_failed(uow: UnitOfWork, claimed: Any, failure: SendFailed, policy: RetryPolicy) -> str:
    """A failed try: schedule the next (backoff with jitter), or give up and announce it."""
    current = and_(
        deliveries.c.id == claimed.id,
        deliveries.c.status == DeliveryState.SENDING.value,
        deliveries.c.attempts == claimed.attempts,
    )
    error = failure.error[:2000]
    if not policy.gives_up(claimed.attempts, failure):
        await uow.session.execute(
            update(deliveries)
            .where(current)
            .values(
                status=DeliveryState.PENDING.value,
                next_attempt_at=func.now() + timedelta(seconds=policy.delay_s(claimed.attempts)),
                last_error=error,
                updated_at=func.now(),
            )
        )
        return DeliveryState.PENDING.value
    now = await uow.session.scalar(
        update(deliveries)
        .where(current)
        .values(
            status=DeliveryState.FAILED.value, failed_at=func.now(), last_error=error, updated_at=func.now()
        )
        .returning(deliveries.c.failed_at)
    )
    if now is not None:
        uow.emit(
            NotificationFailed(
                **_delivery_fields(claimed._mapping, attempts=claimed.attempts), failed_at=now, error=error
            ),
            tenant_id=claimed.tenant_id,
        )
    return DeliveryState.FAILED.value
