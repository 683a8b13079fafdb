"""Routing (pure): which rules an event matches, who may receive it, and on which channels.

Rules name event types, an optional minimum severity and client, channels, and recipients:
users by id, users by role, and (``event_targets``) the people the event itself names (the
assignee of ``incident.assigned.v1``/``incident.delegated.v1``, the targets of
``incident.escalated.v1``). A webhook or Slack channel gets one message per event; an email
channel one per recipient user (plus one to its fixed ``to`` addresses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from contracts.enums import ChannelKind, Role, Severity, UserStatus
from contracts.envelope import Envelope, EventData

CHANNEL_RECIPIENT = "channel"  # recipient key of a message to the channel itself


@dataclass(frozen=True)
class Facts:
    """What routing needs from an event, whatever its type."""

    event_id: UUID
    event_type: str
    tenant_id: UUID
    severity: Severity | None = None
    client_id: UUID | None = None
    vendor_id: UUID | None = None
    incident_id: UUID | None = None
    target_user_ids: tuple[UUID, ...] = ()
    target_roles: tuple[str, ...] = ()
    # Internal comments never go to client or vendor contacts.
    internal: bool = False


def facts_of(envelope: Envelope, payload: EventData) -> Facts:
    data: Any = payload
    targets: list[UUID] = list(getattr(data, "target_user_ids", []) or [])
    if envelope.type in ("incident.assigned.v1", "incident.delegated.v1"):
        targets.append(data.user_id)
    assert envelope.tenantid is not None
    return Facts(
        event_id=envelope.id,
        event_type=envelope.type,
        tenant_id=envelope.tenantid,
        severity=getattr(data, "severity", None),
        client_id=getattr(data, "client_id", None),
        vendor_id=getattr(data, "vendor_id", None),
        incident_id=getattr(data, "incident_id", None),
        target_user_ids=tuple(targets),
        target_roles=tuple(getattr(data, "target_roles", []) or []),
        internal=bool(getattr(data, "is_internal", False)),
    )


@dataclass(frozen=True)
class Rule:
    id: UUID
    event_types: frozenset[str]
    channel_ids: tuple[UUID, ...]
    min_severity: Severity | None = None
    client_id: UUID | None = None
    user_ids: tuple[UUID, ...] = ()
    roles: tuple[str, ...] = ()
    event_targets: bool = False
    enabled: bool = True

    def matches(self, facts: Facts) -> bool:
        if not self.enabled:
            return False
        if facts.event_type not in self.event_types and "*" not in self.event_types:
            return False
        if self.min_severity is not None and (
            facts.severity is None or not facts.severity.is_at_least(self.min_severity)
        ):
            return False
        return self.client_id is None or self.client_id == facts.client_id


@dataclass(frozen=True)
class Channel:
    id: UUID
    kind: ChannelKind
    client_id: UUID | None = None
    enabled: bool = True
    to: tuple[str, ...] = ()  # an email channel's fixed addresses
    bot: bool = False  # a Slack channel that posts with a bot token (so it can message a handle)

    def serves(self, client_id: UUID | None) -> bool:
        """A client's channel carries only that client's events."""
        return self.enabled and (self.client_id is None or self.client_id == client_id)


@dataclass(frozen=True)
class Preferences:
    muted_kinds: frozenset[str] = frozenset()
    muted_event_types: frozenset[str] = frozenset()
    min_severity: Severity | None = None
    slack_handle: str | None = None


@dataclass(frozen=True)
class Person:
    user_id: UUID
    email: str
    name: str
    role: str
    status: str = UserStatus.ACTIVE.value
    client_id: UUID | None = None
    vendor_id: UUID | None = None
    prefs: Preferences = field(default_factory=Preferences)

    def may_receive(self, facts: Facts, kind: ChannelKind) -> bool:
        """Active; a client or vendor contact only their own client's or vendor's events, never
        internal ones; and what the person's preferences allow."""
        if self.status != UserStatus.ACTIVE.value:
            return False
        if self.role == Role.CLIENT_CONTACT.value and (facts.internal or self.client_id != facts.client_id):
            return False
        if self.role == Role.VENDOR_CONTACT.value and (facts.internal or self.vendor_id != facts.vendor_id):
            return False
        if kind.value in self.prefs.muted_kinds or facts.event_type in self.prefs.muted_event_types:
            return False
        return self.prefs.min_severity is None or (
            facts.severity is not None and facts.severity.is_at_least(self.prefs.min_severity)
        )


@dataclass(frozen=True)
class Target:
    """One delivery to make: (event, recipient, channel) is its unique key."""

    channel: Channel
    recipient_key: str
    user: Person | None = None
    address: str | None = None
    mentions: tuple[str, ...] = ()


def user_key(user_id: UUID) -> str:
    return f"user:{user_id}"


def people_of(rules: Iterable[Rule], facts: Facts, people: Sequence[Person]) -> list[Person]:
    """The rules' recipient users (ids, roles, event targets), each once, in a stable order."""
    ids: set[UUID] = set()
    roles: set[str] = set()
    for rule in rules:
        ids.update(rule.user_ids)
        roles.update(rule.roles)
        if rule.event_targets:
            ids.update(facts.target_user_ids)
            roles.update(facts.target_roles)
    chosen = [p for p in people if p.user_id in ids or p.role in roles]
    return sorted(chosen, key=lambda p: str(p.user_id))


def plan(
    facts: Facts, rules: Sequence[Rule], channels: Mapping[UUID, Channel], people: Sequence[Person]
) -> list[Target]:
    """Every delivery an event causes under the tenant's rules, each (recipient, channel) once."""
    matched = [r for r in rules if r.matches(facts)]
    targets: dict[tuple[UUID, str], Target] = {}
    for rule in matched:
        recipients = people_of([rule], facts, people)
        for channel_id in rule.channel_ids:
            channel = channels.get(channel_id)
            if channel is None or not channel.serves(facts.client_id):
                continue
            allowed = [p for p in recipients if p.may_receive(facts, channel.kind)]
            for target in _targets(channel, allowed):
                targets.setdefault((channel.id, target.recipient_key), target)
    return list(targets.values())


def _targets(channel: Channel, people: Sequence[Person]) -> list[Target]:
    if channel.kind is ChannelKind.EMAIL:
        found = [Target(channel, user_key(p.user_id), p, p.email) for p in people if p.email]
        if channel.to:
            found.append(Target(channel, CHANNEL_RECIPIENT, address=", ".join(channel.to)))
        return found
    if channel.kind is ChannelKind.SLACK:
        mentions = tuple(p.prefs.slack_handle or p.name for p in people if p.prefs.slack_handle or p.name)
        return [Target(channel, CHANNEL_RECIPIENT, mentions=mentions)]
    return [Target(channel, CHANNEL_RECIPIENT)]


def pick_channel(channels: Iterable[Channel], kind: ChannelKind, client_id: UUID | None) -> Channel | None:
    """For a direct delivery (a recorded communication, a reminder): the client's enabled
    channel of that kind if it has one, else the tenant's own (first created wins)."""
    usable = [c for c in channels if c.kind is kind and c.serves(client_id)]
    own = [c for c in usable if c.client_id is not None]
    chosen = own or usable
    return chosen[0] if chosen else None


def direct_target(channel: Channel, person: Person | None) -> Target | None:
    """A direct message to one person (or, with no person, to the channel itself)."""
    if person is None:
        if channel.kind is ChannelKind.EMAIL:
            return Target(channel, CHANNEL_RECIPIENT, address=", ".join(channel.to)) if channel.to else None
        return Target(channel, CHANNEL_RECIPIENT)
    key = user_key(person.user_id)
    if channel.kind is ChannelKind.EMAIL:
        return Target(channel, key, person, person.email) if person.email else None
    if channel.kind is ChannelKind.SLACK:
        handle = person.prefs.slack_handle
        # A bot can message the handle itself; an incoming webhook posts to its channel, naming them.
        address = handle if channel.bot and handle else None
        return Target(channel, key, person, address, mentions=(handle or person.name,))
    return Target(channel, key, person)
