"""Notifications service: channels (email, Slack, webhook), routing rules, templates,
deliveries, recorded communications and reminders. Entry: `incidentctl serve notifications`."""

from datetime import timedelta

from fastapi import FastAPI

from backbone.app import Service, create_app
from backbone.clock import SYSTEM_CLOCK, Clock
from backbone.retention import Rule
from contracts.events import notification as events
from contracts.topics import Topic
from notifications.adapters.retention import FINISHED_DELIVERIES, OLD_SLACK_ACTIONS, OLD_SLACK_MESSAGES
from notifications.adapters.senders import Senders
from notifications.adapters.templates import TemplateRunner
from notifications.config import Settings
from notifications.entrypoints import channels as channels_api
from notifications.entrypoints import communications as communications_api
from notifications.entrypoints import consumers
from notifications.entrypoints import deliveries as deliveries_api
from notifications.entrypoints import preferences as preferences_api
from notifications.entrypoints import reminders as reminders_api
from notifications.entrypoints import rules as rules_api
from notifications.entrypoints import slack as slack_api
from notifications.entrypoints import templates as templates_api
from notifications.entrypoints.workers import DeliveryWorkers


def create(
    settings: Settings | None = None, clock: Clock = SYSTEM_CLOCK, senders: Senders | None = None
) -> FastAPI:
    settings = settings or Settings()
    # One delivery worker per channel with due deliveries; tests may pass their own senders.
    workers = DeliveryWorkers(settings, senders)
    # Tenants' templates render in separate processes, bounded in time, memory and output.
    runner = TemplateRunner(
        timeout_s=settings.template_timeout_s,
        max_output=settings.template_max_output,
        memory_mb=settings.template_memory_mb,
        workers=settings.template_workers,
    )
    keep = timedelta(days=settings.delivery_retention_days)
    # Presses of Slack's Acknowledge / Resolve buttons, acted on in the background.
    slack_actions = slack_api.slack_action_loop(settings, clock, workers.box, workers.checks)
    handlers = consumers.with_communication_handlers(
        consumers.delivery_handlers(settings.incident_url, runner)
    )
    for event_type, handler in slack_api.subscriptions().items():
        handlers.setdefault(event_type, []).append(handler)
    app = create_app(
        Service(
            clock=clock,
            settings=settings,
            title="Notifications service",
            description=__doc__ or "",
            api=[
                channels_api.router,
                rules_api.router,
                templates_api.router,
                preferences_api.router,
                deliveries_api.router,
                communications_api.router,
                reminders_api.router,
                slack_api.router,
            ],
            # Communications add the incident replica (every incident event) and delivery
            # outcomes (notification.sent/failed) to whatever else handles those types.
            handlers=handlers,
            subscribes=[
                Topic.INCIDENT_EVENTS,
                Topic.NOTIFICATION_EVENTS,
                Topic.SLA_EVENTS,
                Topic.CHANGE_EVENTS,
                Topic.DIRECTORY_EVENTS,
            ],
            publishes=[
                events.NotificationSent,
                events.NotificationFailed,
                events.ChannelChanged,
                events.RoutingRuleChanged,
                events.TemplateOverrideChanged,
                events.NotificationPreferencesChanged,
                events.CommunicationRecorded,
                events.CommunicationStatusChanged,
                events.ReminderScheduled,
                events.ReminderDispatched,
                events.ReminderCancelled,
                events.IncidentActionRequested,
            ],
            background=[reminders_api.reminder_loop(settings, clock), workers, runner, slack_actions],
            retention=[
                Rule("deliveries", FINISHED_DELIVERIES, keep),
                Rule("slack_messages", OLD_SLACK_MESSAGES, keep),
                Rule("slack_actions", OLD_SLACK_ACTIONS, keep),
            ],
        )
    )
    app.state.delivery_workers = workers
    app.state.secret_box = workers.box
    app.state.template_runner = runner
    app.state.slack_actions = slack_actions
    return app
