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
    IncidentReported,
    SubscriptionChanged,
    incident_event_types,
)
from contracts.topics import Topic
from triage import escalation_handlers, handlers
from triage.adapters import retention
from triage.config import Settings
from triage.entrypoints import attachments
from triage.entrypoints.api import catalog_router, router
from triage.entrypoints.escalation_policies import router as escalation_router
from triage.entrypoints.scheduler import escalation_loop


def create(settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    # Automatic escalation: its consumers and its timer loop share the injected clock.
    escalations = escalation_handlers.Escalations(
        clock, fallback_role=settings.escalation_fallback_role.value, batch=settings.escalation_batch_size
    )
    return create_app(
        Service(
            settings=settings,
            title="Triage service",
            description=__doc__ or "",
            api=[router, attachments.router(settings), catalog_router, escalation_router],
            handlers={
                IncidentReported.event_type: batched(
                    partial(
                        handlers.open_incidents,
                        recurrence_window=timedelta(days=settings.recurrence_window_days),
                    )
                ),
                AlertAcknowledged.event_type: batched(handlers.acknowledge_from_alerts),
                AlertsResolved.event_type: batched(handlers.resolve_from_alerts),
                SubscriptionChanged.event_type: batched(handlers.replicate_subscriptions),
                AlertRepeated.event_type: batched(handlers.count_alerts),
                ComponentRegistered.event_type: batched(handlers.replicate_components),
                **escalation_handlers.consumers(escalations),
            },
            subscribes=[Topic.INTAKE_EVENTS, Topic.DIRECTORY_EVENTS, Topic.INCIDENT_EVENTS, Topic.SLA_EVENTS],
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
