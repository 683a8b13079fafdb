"""Routing events into deliveries: routable events through the tenant's rules, recorded
communications and dispatched reminders straight to the people they name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from backbone.consumer import Batched, batched
from backbone.uow import UnitOfWork
from contracts.enums import ChannelKind, UserStatus
from contracts.envelope import Envelope, EventData
from contracts.events import (
    CommunicationRecorded,
    IncidentEvent,
    ReminderDispatched,
    SlaAtRisk,
    SlaBreached,
    change,
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
from notifications.adapters import routing as routing_store
from notifications.adapters.routing import TenantData
from notifications.adapters.templates import TemplateRunner
from notifications.domain import templates
from notifications.domain.routing import (
    CHANNEL_RECIPIENT,
    Person,
    Target,
    direct_target,
    facts_of,
    pick_channel,
    plan,
    user_key,
)
from notifications.handlers.deliveries import NO_CHANNEL, delivery_row, insert_deliveries

# The changes service's events someone waits on: a change or rollback to decide on, its
# decision and outcome, a problem opened or moved, a root cause found or approved, an article
# to review or published, a review scheduled, done or called off. Edits of records (work
# orders, workarounds, links, action items, blackout windows) are audited, not announced
# (docs/notifications.md).
ROUTABLE_CHANGES: tuple[type[EventData], ...] = (
    change.ChangeRequestCreated,
    change.ChangeRequestApproved,
    change.ChangeRequestRejected,
    change.ChangeRequestScheduled,
    change.ChangeRequestStarted,
    change.ChangeRequestCompleted,
    change.ChangeRequestFailed,
    change.ChangeRequestCancelled,
    change.ChangeRequestRolledBack,
    change.RollbackRequestCreated,
    change.RollbackRequestApproved,
    change.RollbackRequestRejected,
    change.RollbackRequestCompleted,
    change.RollbackRequestFailed,
    change.ProblemOpened,
    change.ProblemUpdated,
    change.RootCauseAnalysisCompleted,
    change.RootCauseAnalysisApproved,
    change.KbArticleSubmitted,
    change.KbArticlePublished,
    change.PostIncidentReviewScheduled,
    change.PostIncidentReviewCompleted,
    change.PostIncidentReviewCancelled,
)

# Events rules may route (the incident lifecycle, SLA clocks and the changes above).
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
    *ROUTABLE_CHANGES,
)
ROUTABLE_TYPES = tuple(cls.event_type for cls in ROUTABLE)


def _override(data: TenantData, event_type: str, kind: ChannelKind) -> templates.Override | None:
    return data.overrides.get((event_type, kind.value)) or data.overrides.get(("*", kind.value))


async def _message(
    target: Target,
    envelope: Envelope,
    data: TenantData,
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
        extra={"actions": target.channel.bot},  # Acknowledge / Resolve buttons (domain/slack.py)
    )
    override = _override(data, envelope.type, kind)
    if override is None:
        return {"message": templates.render(kind, envelope.type, ctx)}  # ours: rendered here
    try:
        return {"message": await runner.render(kind, envelope.type, ctx, override)}
    except templates.TemplateError as exc:
        return {"error": f"the tenant's {kind.value} template failed: {exc}"[:500]}


# --------------------------------------------------------------------------- consumers


def router(link_template: str, runner: TemplateRunner) -> Batched:
    """The consumer of routable events: each event × matching rule → delivery rows."""

    async def route(uow: UnitOfWork, batch: list[tuple[Envelope, EventData]]) -> None:
        items = [(e, p, facts_of(e, p)) for e, p in batch if e.tenantid is not None]
        if not items:
            return
        tenant_data = await routing_store.tenant_data(
            uow.session, {f.tenant_id for _, _, f in items}, with_rules=True
        )
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
        people = await routing_store.people(
            uow.session, {t for t, d in tenant_data.items() if d.rules}, user_ids, roles
        )
        names = await routing_store.client_names(uow.session, (f.client_id for _, _, f in items))
        heads = await routing_store.headlines(
            uow.session, (f.incident_id for _, p, f in items if not isinstance(p, IncidentEvent))
        )
        now = uow.now
        rows = []
        for envelope, _payload, facts in items:
            data = tenant_data[facts.tenant_id]
            if not data.rules:
                continue
            for target in plan(facts, data.rules, data.channels, people.get(facts.tenant_id, [])):
                rows.append(
                    delivery_row(
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
        await insert_deliveries(uow, rows)

    return batched(route)


def _direct_target(
    data: TenantData,
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
        tenant_data = await routing_store.tenant_data(uow.session, tenants, with_rules=False)
        wanted: set[UUID] = set()
        for _, p in items:
            if isinstance(p, CommunicationRecorded) and p.recipient_user_id:
                wanted.add(p.recipient_user_id)
            if isinstance(p, ReminderDispatched):
                wanted.update(p.user_ids)
        people = {
            p.user_id: p
            for ps in (await routing_store.people(uow.session, tenants, wanted, set())).values()
            for p in ps
        }
        heads = await routing_store.headlines(
            uow.session, (getattr(p, "incident_id", None) for _, p in items)
        )
        names = await routing_store.client_names(uow.session, (h.get("client_id") for h in heads.values()))
        now = uow.now
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
                    rows.append(delivery_row(envelope, NO_CHANNEL, method, key, error=target, **common))
                    continue
                client_name = names.get(head["client_id"]) if head and head["client_id"] else None
                rows.append(
                    delivery_row(
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
        await insert_deliveries(uow, rows)

    return batched(deliver)
