"""Routing rules: which events match, who may receive them, on which channels."""

from __future__ import annotations

import uuid

from contracts.enums import ChannelKind, Severity
from notifications.domain.routing import (
    CHANNEL_RECIPIENT,
    Channel,
    Facts,
    Person,
    Preferences,
    Rule,
    direct_target,
    pick_channel,
    plan,
    user_key,
)

TENANT, ACME, OTHER, VENDOR = (uuid.uuid4() for _ in range(4))
EMAIL = Channel(uuid.uuid4(), ChannelKind.EMAIL, to=("noc@ops.example",))
SLACK = Channel(uuid.uuid4(), ChannelKind.SLACK)
HOOK = Channel(uuid.uuid4(), ChannelKind.WEBHOOK)
OTHER_HOOK = Channel(uuid.uuid4(), ChannelKind.WEBHOOK, client_id=OTHER)
CHANNELS = {c.id: c for c in (EMAIL, SLACK, HOOK, OTHER_HOOK)}

MANAGER = Person(uuid.uuid4(), "im@ops.example", "Ines", "incident_manager")
SUPPORT = Person(uuid.uuid4(), "ts@ops.example", "Tom", "technical_support")
ACME_CONTACT = Person(uuid.uuid4(), "c@acme.example", "Cleo", "client_contact", client_id=ACME)
OTHER_CONTACT = Person(uuid.uuid4(), "c@other.example", "Olga", "client_contact", client_id=OTHER)
VENDOR_CONTACT = Person(uuid.uuid4(), "v@vendor.example", "Vic", "vendor_contact", vendor_id=VENDOR)
GONE = Person(uuid.uuid4(), "gone@ops.example", "Gone", "incident_manager", status="inactive")
PEOPLE = [MANAGER, SUPPORT, ACME_CONTACT, OTHER_CONTACT, VENDOR_CONTACT, GONE]


def facts(
    event_type: str = "incident.created.v1", severity: Severity | None = Severity.P1, **kw: object
) -> Facts:
    return Facts(
        uuid.uuid4(), event_type, TENANT, severity=severity, client_id=kw.pop("client_id", ACME), **kw
    )  # type: ignore[arg-type]


def rule(**kw: object) -> Rule:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "event_types": frozenset({"incident.created.v1"}),
        "channel_ids": (EMAIL.id, SLACK.id, HOOK.id),
    }
    values.update(kw)
    return Rule(**values)  # type: ignore[arg-type]


def keys(targets: list) -> set[tuple[ChannelKind, str]]:  # type: ignore[type-arg]
    return {(t.channel.kind, t.recipient_key) for t in targets}


def test_rule_matches_type_severity_and_client() -> None:
    assert rule().matches(facts())
    assert not rule().matches(facts("incident.closed.v1"))
    assert rule(event_types=frozenset({"*"})).matches(facts("incident.closed.v1"))
    assert rule(min_severity=Severity.P2).matches(facts(severity=Severity.P1))
    assert rule(min_severity=Severity.P2).matches(facts(severity=Severity.P2))
    assert not rule(min_severity=Severity.P2).matches(facts(severity=Severity.P3))
    assert not rule(min_severity=Severity.P2).matches(facts(severity=None))
    assert rule(client_id=ACME).matches(facts())
    assert not rule(client_id=OTHER).matches(facts())
    assert not rule(enabled=False).matches(facts())


def test_plan_one_message_per_channel_and_one_email_per_user() -> None:
    targets = plan(
        facts(), [rule(roles=("incident_manager",), user_ids=(SUPPORT.user_id,))], CHANNELS, PEOPLE
    )
    assert keys(targets) == {
        (ChannelKind.EMAIL, user_key(MANAGER.user_id)),
        (ChannelKind.EMAIL, user_key(SUPPORT.user_id)),
        (ChannelKind.EMAIL, CHANNEL_RECIPIENT),  # the channel's fixed `to`
        (ChannelKind.SLACK, CHANNEL_RECIPIENT),
        (ChannelKind.WEBHOOK, CHANNEL_RECIPIENT),
    }
    slack = next(t for t in targets if t.channel.kind is ChannelKind.SLACK)
    assert set(slack.mentions) == {"Ines", "Tom"}


def test_two_rules_never_double_a_delivery() -> None:
    targets = plan(
        facts(), [rule(roles=("incident_manager",)), rule(user_ids=(MANAGER.user_id,))], CHANNELS, PEOPLE
    )
    assert len(targets) == len(keys(targets)) == 4


def test_contacts_get_only_their_own_clients_and_vendors_events_and_never_internal_ones() -> None:
    everyone = rule(roles=("client_contact", "vendor_contact"), channel_ids=(EMAIL.id,))
    got = {t.user.user_id for t in plan(facts(), [everyone], CHANNELS, PEOPLE) if t.user}
    assert got == {ACME_CONTACT.user_id}
    got = {t.user.user_id for t in plan(facts(vendor_id=VENDOR), [everyone], CHANNELS, PEOPLE) if t.user}
    assert got == {ACME_CONTACT.user_id, VENDOR_CONTACT.user_id}
    internal = facts("incident.comment_added.v1", vendor_id=VENDOR, internal=True)
    comment_rule = rule(
        roles=("client_contact", "vendor_contact"),
        event_types=frozenset({"incident.comment_added.v1"}),
        channel_ids=(EMAIL.id,),
    )
    assert [t.user for t in plan(internal, [comment_rule], CHANNELS, PEOPLE) if t.user] == []


def test_inactive_users_and_preferences_are_respected() -> None:
    muted = Person(
        uuid.uuid4(),
        "m@ops.example",
        "Muted",
        "incident_manager",
        prefs=Preferences(muted_kinds=frozenset({"email"})),
    )
    picky = Person(
        uuid.uuid4(),
        "p@ops.example",
        "Picky",
        "incident_manager",
        prefs=Preferences(min_severity=Severity.P1),
    )
    managers = rule(roles=("incident_manager",), channel_ids=(EMAIL.id,))
    got = {
        t.user.user_id
        for t in plan(facts(severity=Severity.P2), [managers], CHANNELS, [*PEOPLE, muted, picky])
        if t.user
    }
    assert got == {MANAGER.user_id}
    got = {
        t.user.user_id
        for t in plan(facts(severity=Severity.P1), [managers], CHANNELS, [*PEOPLE, muted, picky])
        if t.user
    }
    assert got == {MANAGER.user_id, picky.user_id}


def test_event_targets_and_client_channels() -> None:
    targeted = facts(
        "incident.escalated.v1", target_user_ids=(SUPPORT.user_id,), target_roles=("incident_manager",)
    )
    escalations = rule(
        event_types=frozenset({"incident.escalated.v1"}), event_targets=True, channel_ids=(EMAIL.id,)
    )
    got = {t.user.user_id for t in plan(targeted, [escalations], CHANNELS, PEOPLE) if t.user}
    assert got == {SUPPORT.user_id, MANAGER.user_id}
    assert not [
        t
        for t in plan(
            targeted,
            [rule(event_types=frozenset({"incident.escalated.v1"}), channel_ids=(EMAIL.id,))],
            CHANNELS,
            PEOPLE,
        )
        if t.user
    ]
    # A client's channel never carries another client's events.
    assert plan(facts(), [rule(channel_ids=(OTHER_HOOK.id,))], CHANNELS, PEOPLE) == []
    assert len(plan(facts(client_id=OTHER), [rule(channel_ids=(OTHER_HOOK.id,))], CHANNELS, PEOPLE)) == 1


def test_direct_deliveries_pick_the_clients_channel_first() -> None:
    tenant_email = Channel(uuid.uuid4(), ChannelKind.EMAIL)
    acme_email = Channel(uuid.uuid4(), ChannelKind.EMAIL, client_id=ACME)
    off = Channel(uuid.uuid4(), ChannelKind.EMAIL, enabled=False)
    assert pick_channel([off, tenant_email, acme_email], ChannelKind.EMAIL, ACME) is acme_email
    assert pick_channel([off, tenant_email, acme_email], ChannelKind.EMAIL, OTHER) is tenant_email
    assert pick_channel([off], ChannelKind.EMAIL, None) is None
    assert pick_channel([tenant_email], ChannelKind.SLACK, None) is None
    target = direct_target(tenant_email, MANAGER)
    assert target is not None and target.address == MANAGER.email
    handle = Person(uuid.uuid4(), "", "Hal", "technical_support", prefs=Preferences(slack_handle="U123ABC"))
    assert direct_target(tenant_email, handle) is None  # no address to send to
    bot = Channel(uuid.uuid4(), ChannelKind.SLACK, bot=True)
    dm = direct_target(bot, handle)
    assert dm is not None and dm.address == "U123ABC"
