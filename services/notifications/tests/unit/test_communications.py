"""The pure rules of recorded communications (000): sender and recipient pre-checks, the
recipient type a user implies, and how delivery outcomes move the status."""

from __future__ import annotations

from uuid import uuid4

import pytest

from contracts.enums import ChannelKind, DeliveryStatus, RecipientType, Role, UserStatus
from notifications.domain.communications import (
    CommunicationRefused,
    IncidentLinks,
    User,
    check_sender,
    moves_forward,
    recipient_type_of,
    resolve_recipient,
    status_after_sent,
)

TENANT = uuid4()
CLIENT = uuid4()
VENDOR = uuid4()
INCIDENT = IncidentLinks(client_id=CLIENT, vendor_id=VENDOR)


def user(role: Role = Role.INCIDENT_MANAGER, **kwargs: object) -> User:
    values: dict[str, object] = {
        "user_id": uuid4(),
        "tenant_id": TENANT,
        "role": role,
        "status": UserStatus.ACTIVE,
    }
    values.update(kwargs)
    return User(**values)  # type: ignore[arg-type]


def resolve(
    recipient: User | None, recipient_type: RecipientType | None = None, **kwargs: object
) -> RecipientType:
    return resolve_recipient(
        tenant_id=TENANT,
        incident=kwargs.get("incident", INCIDENT),  # type: ignore[arg-type]
        recipient_user_id=recipient.user_id if recipient else kwargs.get("recipient_user_id"),  # type: ignore[arg-type]
        recipient=recipient,
        recipient_type=recipient_type,
    )


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Role.CLIENT_CONTACT, RecipientType.CLIENT),
        (Role.VENDOR_CONTACT, RecipientType.VENDOR),
        (Role.EXECUTIVE, RecipientType.EXECUTIVE),
        (Role.INCIDENT_MANAGER, RecipientType.INTERNAL),
        (Role.ACCOUNT_MANAGER, RecipientType.INTERNAL),
    ],
)
def test_recipient_type_follows_the_role(role: Role, kind: RecipientType) -> None:
    assert recipient_type_of(role) is kind


def test_sender_must_be_known_active_and_of_the_tenant() -> None:
    sender = user()
    check_sender(sender, user_id=sender.user_id, tenant_id=TENANT)
    for bad in (
        None,
        user(tenant_id=uuid4()),
        user(status=UserStatus.INACTIVE),
        user(status=UserStatus.SUSPENDED),
    ):
        with pytest.raises(CommunicationRefused) as refused:
            check_sender(bad, user_id=uuid4(), tenant_id=TENANT)
        assert refused.value.field is None


def test_recipient_type_alone_is_enough_and_one_of_them_is_needed() -> None:
    assert resolve(None, RecipientType.EXECUTIVE) is RecipientType.EXECUTIVE
    with pytest.raises(CommunicationRefused) as refused:
        resolve(None, None)
    assert refused.value.field == "recipient_type"


def test_a_named_recipient_must_exist_in_the_tenant_and_be_active() -> None:
    with pytest.raises(CommunicationRefused, match="no user") as unknown:
        resolve(None, RecipientType.INTERNAL, recipient_user_id=uuid4())
    assert unknown.value.field == "recipient_user_id"
    for bad in (user(tenant_id=uuid4()), user(status=UserStatus.INACTIVE)):
        with pytest.raises(CommunicationRefused) as refused:
            resolve(bad)
        assert refused.value.field == "recipient_user_id"


def test_the_given_type_wins_over_the_role() -> None:
    assert resolve(user(Role.EXECUTIVE)) is RecipientType.EXECUTIVE
    assert resolve(user(Role.EXECUTIVE), RecipientType.INTERNAL) is RecipientType.INTERNAL


def test_contacts_only_hear_about_their_own_clients_or_vendors_incidents() -> None:
    assert resolve(user(Role.CLIENT_CONTACT, client_id=CLIENT)) is RecipientType.CLIENT
    assert resolve(user(Role.VENDOR_CONTACT, vendor_id=VENDOR)) is RecipientType.VENDOR
    for bad in (
        user(Role.CLIENT_CONTACT, client_id=uuid4()),
        user(Role.CLIENT_CONTACT),  # linked to no client
        user(Role.VENDOR_CONTACT, vendor_id=uuid4()),
        user(Role.VENDOR_CONTACT),
    ):
        with pytest.raises(CommunicationRefused):
            resolve(bad)
    # An incident without a client has no client contacts to tell.
    with pytest.raises(CommunicationRefused):
        resolve(user(Role.CLIENT_CONTACT, client_id=CLIENT), incident=IncidentLinks(None, None))


def test_what_each_channel_confirms() -> None:
    assert status_after_sent(ChannelKind.WEBHOOK) is DeliveryStatus.DELIVERED
    assert status_after_sent(ChannelKind.SLACK) is DeliveryStatus.DELIVERED
    assert status_after_sent(ChannelKind.EMAIL) is DeliveryStatus.SENT


def test_status_only_moves_forward() -> None:
    P, F, S, D = DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED
    assert moves_forward(P, S) and moves_forward(P, F) and moves_forward(P, D)
    assert moves_forward(F, S) and moves_forward(S, D)  # another channel succeeded; confirmed later
    assert not moves_forward(S, F) and not moves_forward(D, F) and not moves_forward(D, S)
    assert not moves_forward(S, S) and not moves_forward(F, F)
