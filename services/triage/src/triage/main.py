"""Triage service: the incident record, severity, lifecycle, assignment and escalation.
Entry: `incidentctl serve triage`."""

from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from backbone.app import Service, create_app
from backbone.consumer import batched
from backbone.retention import Rule
from backbone.timers import SYSTEM_CLOCK, Clock
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    CatalogItemChanged,
    ComponentRegistered,
    EscalationPolicyChanged,
    IncidentActionRequested,
    IncidentReported,
    SubscriptionChanged,
    incident_event_types,
)
from contracts.topics import Topic
from triage.adapters import retention
from triage.config import Settings
from triage.entrypoints import (
    assignment,
    attachment,
    catalog,
    comment,
    escalation,
    escalation_policy,
    incident,
    lifecycle,
    task,
)
from triage.entrypoints.scheduler import escalation_loop
from triage.handlers import incident as incident_handlers
from triage.handlers import lifecycle as lifecycle_handlers
from triage.handlers import replica
from triage.handlers.escalation import Escalations


def create(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    # Automatic escalation: its consumers and its timer loop share the injected clock.
    escalations = Escalations(
        clock, fallback_role=settings.escalation_fallback_role.value, batch=settings.escalation_batch_size
    )
    return create_app(
        Service(
            clock=clock,
            settings=settings,
            title="Triage service",
            description=__doc__ or "",
            api=[
                incident.router,
                lifecycle.router,
                assignment.router,
                escalation.router,
                comment.router,
                task.router,
                attachment.router(settings),
                catalog.router,
                escalation_policy.router,
            ],
            handlers={
                IncidentReported.event_type: batched(
                    partial(
                        incident_handlers.open_incidents,
                        recurrence_window=timedelta(days=settings.recurrence_window_days),
                    )
                ),
                AlertAcknowledged.event_type: batched(incident_handlers.acknowledge_from_alerts),
                IncidentActionRequested.event_type: batched(lifecycle_handlers.act_on_requests),
                AlertsResolved.event_type: batched(incident_handlers.resolve_from_alerts),
                SubscriptionChanged.event_type: batched(replica.replicate_subscriptions),
                AlertRepeated.event_type: batched(incident_handlers.count_alerts),
                ComponentRegistered.event_type: batched(replica.replicate_components),
                **escalation.consumers(escalations),
            },
            subscribes=[
                Topic.INTAKE_EVENTS,
                Topic.DIRECTORY_EVENTS,
                Topic.INCIDENT_EVENTS,
                Topic.SLA_EVENTS,
                Topic.NOTIFICATION_EVENTS,  # incident_action.requested.v1 (Slack's buttons)
            ],
            publishes=[*incident_event_types(), CatalogItemChanged, EscalationPolicyChanged],
            background=[escalation_loop(settings, escalations)],
            retention=[
                Rule(
                    "deleted_incident_attachments",
                    retention.DELETED_INCIDENT_ATTACHMENTS,
                    timedelta(days=settings.deleted_attachment_retention_days),
                    after=retention.remove_unreferenced_files(settings.attachments_dir),
                )
            ],
        )
    )
