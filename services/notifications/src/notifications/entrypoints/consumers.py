"""Kafka subscriptions: which handler takes each event type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backbone.consumer import Batched, Handler, batched
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
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


# --------------------------------------------------------------------------- wiring


def _both(first: Batched, then: Handler) -> Batched:
    async def run(uow: UnitOfWork, batch: list[tuple[Envelope, Any]]) -> None:
        await first.fn(uow, batch)
        if isinstance(then, Batched):
            await then.fn(uow, batch)
        else:
            for envelope, payload in batch:
                await then(uow, envelope, payload)

    return batched(run)


def with_communication_handlers(handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """The service's handlers plus ours: the incident replica on every incident event, and
    delivery outcomes on notification.sent/failed. Where another handler takes the same type,
    ours runs first in the same transaction, then it."""
    combined = dict(handlers)
    replica = batched(replicate_incidents)  # one object, so a run of incident events batches together
    outcomes = batched(apply_delivery_outcomes)
    ours = {t: replica for t in INCIDENT_EVENT_TYPES} | {
        NotificationSent.event_type: outcomes,
        NotificationFailed.event_type: outcomes,
    }
    wrapped: dict[tuple[int, int], Batched] = {}
    for event_type, mine in ours.items():
        theirs = combined.get(event_type)
        combined[event_type] = (
            mine if theirs is None else wrapped.setdefault((id(mine), id(theirs)), _both(mine, theirs))
        )
    return combined
