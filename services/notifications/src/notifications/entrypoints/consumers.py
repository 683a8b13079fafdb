"""Kafka subscriptions: which handler takes each event type."""

from __future__ import annotations

from collections.abc import Mapping

from backbone.consumer import Handler, batched
from contracts.events import (
    ClientOnboarded,
    ClientUpdated,
    CommunicationRecorded,
    NotificationFailed,
    NotificationSent,
    ReminderDispatched,
    UserRegistered,
    UserUpdated,
)
from notifications.adapters.templates import TemplateRunner
from notifications.handlers.communications import apply_delivery_outcomes
from notifications.handlers.replicas import (
    INCIDENT_EVENT_TYPES,
    replicate_clients,
    replicate_incidents,
    replicate_recipients,
)
from notifications.handlers.routing import ROUTABLE_TYPES, direct, router


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


def with_communication_handlers(handlers: Mapping[str, Handler]) -> dict[str, list[Handler]]:
    """The service's handlers plus ours: the incident replica on every incident event, and
    delivery outcomes on notification.sent/failed. Where another handler takes the same type,
    ours runs first in the same transaction, then it."""
    replica = batched(replicate_incidents)  # one object, so a run of incident events batches together
    outcomes = batched(apply_delivery_outcomes)
    ours: Mapping[str, Handler] = {t: replica for t in INCIDENT_EVENT_TYPES} | {
        NotificationSent.event_type: outcomes,
        NotificationFailed.event_type: outcomes,
    }
    return {t: [h for h in (ours.get(t), handlers.get(t)) if h is not None] for t in {*ours, *handlers}}
