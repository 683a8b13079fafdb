"""Recorded communications (000/001 "Recording Communications"): the pure rules.

Pre-checks of the source: the incident exists, the sender is a known active user, and the
recipient user exists when one is named, or the recipient type is a valid value. Beyond the
source: a client or vendor contact may only be sent communications about incidents of their own
client or vendor (otherwise recording it would disclose the incident to a third party).

Delivery status only moves forward along pending < failed < sent < delivered: a later success
on another channel lifts a failure, but a late failure never undoes a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from contracts.enums import ChannelKind, DeliveryStatus, RecipientType, Role, UserStatus

_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.FAILED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
}

# What a channel's acceptance proves. A webhook answering 2xx and Slack answering ok have the
# message in the receiver's hands (delivered); an SMTP server accepting a message only takes it
# for relay, and nothing confirms it reached the mailbox (sent).
_CONFIRMS_DELIVERY = {ChannelKind.WEBHOOK, ChannelKind.SLACK}


class CommunicationRefused(ValueError):
    """A pre-check failed; ``field`` names the request field at fault (None: the sender)."""

    def __init__(self, detail: str, field: str | None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class User:
    """A user as the principals replica knows them."""

    user_id: UUID
    tenant_id: UUID
    role: Role
    status: UserStatus
    client_id: UUID | None = None
    vendor_id: UUID | None = None


@dataclass(frozen=True)
class IncidentLinks:
    client_id: UUID | None
    vendor_id: UUID | None


def recipient_type_of(role: Role) -> RecipientType:
    """The recipient type a user's role implies, when a request names only the user."""
    if role is Role.CLIENT_CONTACT:
        return RecipientType.CLIENT
    if role is Role.VENDOR_CONTACT:
        return RecipientType.VENDOR
    if role is Role.EXECUTIVE:
        return RecipientType.EXECUTIVE
    return RecipientType.INTERNAL


def check_sender(sender: User | None, *, user_id: UUID, tenant_id: UUID) -> None:
    if sender is None or sender.tenant_id != tenant_id:
        raise CommunicationRefused(f"the sender {user_id} is not a known user of this tenant", None)
    if sender.status is not UserStatus.ACTIVE:
        raise CommunicationRefused(f"the sender {user_id} is {sender.status.value}", None)


def resolve_recipient(
    *,
    tenant_id: UUID,
    incident: IncidentLinks,
    recipient_user_id: UUID | None,
    recipient: User | None,
    recipient_type: RecipientType | None,
) -> RecipientType:
    """The recipient type to record, after the recipient pre-checks (raises CommunicationRefused)."""
    if recipient_user_id is None:
        if recipient_type is None:
            raise CommunicationRefused("name a recipient_user_id or a recipient_type", "recipient_type")
        return recipient_type
    if recipient is None or recipient.tenant_id != tenant_id:
        raise CommunicationRefused(f"no user {recipient_user_id} in this tenant", "recipient_user_id")
    if recipient.status is not UserStatus.ACTIVE:
        raise CommunicationRefused(
            f"the recipient {recipient_user_id} is {recipient.status.value}", "recipient_user_id"
        )
    if recipient.role is Role.CLIENT_CONTACT and (
        recipient.client_id is None or recipient.client_id != incident.client_id
    ):
        raise CommunicationRefused(
            f"the recipient {recipient_user_id} is a contact of another client than the incident's",
            "recipient_user_id",
        )
    if recipient.role is Role.VENDOR_CONTACT and (
        recipient.vendor_id is None or recipient.vendor_id != incident.vendor_id
    ):
        raise CommunicationRefused(
            f"the recipient {recipient_user_id} is a contact of a vendor not linked to the incident",
            "recipient_user_id",
        )
    return recipient_type or recipient_type_of(recipient.role)


def status_after_sent(channel: ChannelKind | None) -> DeliveryStatus:
    return DeliveryStatus.DELIVERED if channel in _CONFIRMS_DELIVERY else DeliveryStatus.SENT


def moves_forward(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    """Whether an outcome changes the recorded status (statuses only move forward)."""
    return _RANK[new] > _RANK[current]
