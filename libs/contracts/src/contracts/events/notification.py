"""Events of the notifications service (topic ``notification.events``).

Deliveries are keyed by the delivery id; communications and reminders by the incident id, so
one incident's messages stay in order. Channel and rule events carry no secrets: a channel's
config is announced with its secret fields removed.
"""

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from contracts.enums import (
    ChannelKind,
    CommunicationType,
    DeliveryMethod,
    DeliveryStatus,
    RecipientType,
    ReminderChannel,
    Severity,
)
from contracts.envelope import EventData, event
from contracts.topics import Topic


class NotificationEvent(EventData):
    """Base of the events on ``notification.events`` (not an event type of its own)."""

    topic: ClassVar[Topic] = Topic.NOTIFICATION_EVENTS


class DeliveryEvent(NotificationEvent):
    subject_field: ClassVar[str] = "delivery_id"

    delivery_id: UUID
    # None when no channel could take the delivery (a method no channel has, e.g. sms): such a
    # delivery fails at once, and ``method`` says what was asked for.
    channel_id: UUID | None
    channel_kind: ChannelKind | None
    method: DeliveryMethod | None = None
    # What was delivered: the event that caused it (its id and type), and what it was about.
    source_event_id: UUID
    source_event_type: str
    incident_id: UUID | None = None
    recipient_user_id: UUID | None = None
    communication_id: UUID | None = None
    reminder_id: UUID | None = None
    attempts: int


@event
class NotificationSent(DeliveryEvent):
    """The channel accepted the message (SMTP server, Slack, or the webhook answered 2xx)."""

    event_type: ClassVar[str] = "notification.sent.v1"

    sent_at: datetime


@event
class NotificationFailed(DeliveryEvent):
    """The last try failed (or the failure was permanent); nothing more will be tried."""

    event_type: ClassVar[str] = "notification.failed.v1"

    failed_at: datetime
    error: str


@event
class ChannelChanged(NotificationEvent):
    """A channel was created or changed; ``config`` without its secret fields."""

    event_type: ClassVar[str] = "channel.changed.v1"
    subject_field: ClassVar[str] = "channel_id"

    channel_id: UUID
    kind: ChannelKind
    name: str
    client_id: UUID | None = None
    config: dict[str, Any] = {}
    enabled: bool = True


@event
class RoutingRuleChanged(NotificationEvent):
    event_type: ClassVar[str] = "routing_rule.changed.v1"
    subject_field: ClassVar[str] = "rule_id"

    rule_id: UUID
    name: str = ""
    event_types: list[str]
    min_severity: Severity | None = None
    client_id: UUID | None = None
    channel_ids: list[UUID]
    user_ids: list[UUID] = []
    roles: list[str] = []
    enabled: bool = True


class CommunicationEvent(NotificationEvent):
    """Fields every communication event carries, keyed by its incident."""

    subject_field: ClassVar[str] = "incident_id"

    communication_id: UUID
    incident_id: UUID


class ReminderEvent(NotificationEvent):
    """Fields every reminder event carries, keyed by its incident."""

    subject_field: ClassVar[str] = "incident_id"

    reminder_id: UUID
    incident_id: UUID
    reminder_type: str


@event
class CommunicationRecorded(CommunicationEvent):
    """000 "Recording Communications": a communication was recorded and queued for sending."""

    event_type: ClassVar[str] = "communication.recorded.v1"

    sender_id: UUID
    recipient_user_id: UUID | None = None
    recipient_type: RecipientType
    communication_type: CommunicationType
    delivery_method: DeliveryMethod
    title: str = ""  # the message's subject line ("subject" is the envelope's aggregate id)
    message: str
    sent_at: datetime
    delivery_status: DeliveryStatus = DeliveryStatus.PENDING


@event
class CommunicationStatusChanged(CommunicationEvent):
    """The delivery status of a recorded communication moved (pending → sent → delivered, or failed)."""

    event_type: ClassVar[str] = "communication.status_changed.v1"

    from_status: DeliveryStatus
    to_status: DeliveryStatus
    error: str | None = None


@event
class ReminderScheduled(ReminderEvent):
    """004 incident_reminders: a reminder was scheduled for an incident."""

    event_type: ClassVar[str] = "reminder.scheduled.v1"

    scheduled_for: datetime
    channel: ReminderChannel
    user_ids: list[UUID] = []
    metadata: dict[str, Any] = {}


@event
class ReminderDispatched(ReminderEvent):
    """A reminder's time came: it was handed to its channel (``sent``), or its channel cannot
    send (``unsupported``, e.g. sms with no provider configured)."""

    event_type: ClassVar[str] = "reminder.dispatched.v1"

    channel: ReminderChannel
    outcome: Literal["sent", "unsupported"]
    dispatched_at: datetime
    user_ids: list[UUID] = []


@event
class ReminderCancelled(ReminderEvent):
    """A scheduled reminder will not fire: cancelled by a person, or skipped at its time because
    its incident was resolved, closed or deleted."""

    event_type: ClassVar[str] = "reminder.cancelled.v1"

    reason: Literal["cancelled", "incident_finished"]
    cancelled_at: datetime
    cancelled_by: UUID | None = None


@event
class TemplateOverrideChanged(NotificationEvent):
    """A tenant's template override for an event type and channel kind was set or removed."""

    event_type: ClassVar[str] = "notification_template.changed.v1"
    subject_field: ClassVar[str] = "template_event_type"

    template_event_type: str  # the event type the template renders ("*" for every one)
    channel_kind: ChannelKind
    subject_template: str | None = None
    body_template: str | None = None
    removed: bool = False


@event
class NotificationPreferencesChanged(NotificationEvent):
    """A user's notification preferences were set (full state)."""

    event_type: ClassVar[str] = "notification_preferences.changed.v1"
    subject_field: ClassVar[str] = "user_id"

    user_id: UUID
    muted_kinds: list[ChannelKind] = []
    muted_event_types: list[str] = []
    min_severity: Severity | None = None
    slack_handle: str | None = None


@event
class IncidentActionRequested(NotificationEvent):
    """A person asked, from a Slack message's button, to acknowledge or resolve an incident.
    A command for triage, which applies it with that person's own permissions (the envelope's
    actor is the person) or refuses it; its incident events name this one as their cause."""

    event_type: ClassVar[str] = "incident_action.requested.v1"
    subject_field: ClassVar[str] = "incident_id"

    incident_id: UUID
    action: Literal["acknowledge", "resolve"]
    user_id: UUID
    requested_at: datetime
    via: Literal["slack"] = "slack"
