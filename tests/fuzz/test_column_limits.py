"""Every string a request body carries into a bounded column is limited, in the OpenAPI document,
to exactly that column's length: a longer value is a 422 naming the field, never a 500 from the
database, and the document never refuses what the table could hold.

One row per (request model, field) → the column it lands in, read from the SQLAlchemy tables
themselves, so a column widened or narrowed in a migration without its model fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, String

from directory.adapters import orm as directory_orm
from directory.entrypoints import clients as directory_clients
from directory.entrypoints import components as directory_components
from directory.entrypoints import integrations as directory_integrations
from directory.entrypoints import tenants as directory_tenants
from directory.entrypoints import users as directory_users
from directory.entrypoints import vendors as directory_vendors
from intake.adapters import reports as intake_reports
from intake.domain import reports as intake_domain
from notifications.adapters import communications as notifications_communications
from notifications.adapters import orm as notifications_orm
from notifications.adapters import reminders as notifications_reminders
from notifications.entrypoints import channels as notifications_channels
from notifications.entrypoints import communications as notifications_comms_api
from notifications.entrypoints import preferences as notifications_preferences
from notifications.entrypoints import reminders as notifications_reminders_api
from notifications.entrypoints import rules as notifications_rules
from triage.adapters import orm as triage_orm
from triage.entrypoints import catalog as triage_catalog
from triage.entrypoints import escalation as triage_escalation
from triage.entrypoints import escalation_policy as triage_policies
from triage.entrypoints import lifecycle as triage_lifecycle
from triage.entrypoints import task as triage_task

d, t, n = directory_orm, triage_orm, notifications_orm

LIMITS: list[tuple[type[BaseModel], str, Column[Any]]] = [
    # directory
    (directory_tenants.BootstrapRequest, "slug", d.tenants.c.slug),
    (directory_tenants.BootstrapRequest, "name", d.tenants.c.name),
    (directory_tenants.TenantRequest, "slug", d.tenants.c.slug),
    (directory_tenants.TenantRequest, "name", d.tenants.c.name),
    *[
        (model, field, d.clients.c[field])
        for model in (directory_clients.ClientIn, directory_clients.ClientChange)
        for field in ("client_name", "registration_number", "country", "industry")
    ],
    (directory_vendors.VendorIn, "vendor_name", d.vendors.c.vendor_name),
    (directory_vendors.VendorIn, "vendor_phone", d.vendors.c.vendor_phone),
    *[
        (model, field, d.users.c[field])
        for model in (directory_users.UserIn, directory_users.UserChange)
        for field in ("name", "department", "timezone")
    ],
    *[
        (directory_components.ComponentIn, field, d.components.c[field])
        for field in ("name", "component_type", "environment")
    ],
    (directory_integrations.IntegrationIn, "name", d.integrations.c.name),
    (directory_integrations.IntegrationChange, "name", d.integrations.c.name),
    # intake: a report's title and category become the incident's at triage
    (intake_domain.ManualReport, "title", t.incidents.c.title),
    (intake_domain.ManualReport, "category", t.incidents.c.category),
    (intake_domain.PublicReport, "title", t.incidents.c.title),
    (intake_domain.PublicReport, "category", t.incidents.c.category),
    *[
        (intake_domain.PublicReport, field, intake_reports.reporters.c[field])
        for field in ("name", "email", "phone", "organization")
    ],
    # triage
    *[
        (triage_lifecycle.IncidentPatch, field, t.incidents.c[field])
        for field in ("title", "category", "priority", "status")
    ],
    (triage_escalation.Escalate, "priority", t.incidents.c.priority),
    (triage_task.NewTask, "title", t.incident_tasks.c.title),
    (triage_task.TaskPatch, "title", t.incident_tasks.c.title),
    (triage_catalog.NewStatus, "slug", t.incident_statuses.c.slug),
    (triage_catalog.NewStatus, "name", t.incident_statuses.c.name),
    (triage_catalog.StatusIn, "name", t.incident_statuses.c.name),
    (triage_catalog.NewCategory, "slug", t.incident_categories.c.slug),
    (triage_catalog.NewCategory, "name", t.incident_categories.c.name),
    (triage_catalog.CategoryIn, "name", t.incident_categories.c.name),
    (triage_catalog.NewPriority, "slug", t.incident_priorities.c.slug),
    (triage_catalog.NewPriority, "name", t.incident_priorities.c.name),
    (triage_catalog.PriorityIn, "name", t.incident_priorities.c.name),
    (triage_policies.PolicyIn, "name", t.escalation_policies.c.name),
    # notifications
    (notifications_channels.ChannelIn, "name", n.channels.c.name),
    (notifications_channels.ChannelChange, "name", n.channels.c.name),
    (notifications_rules.RuleIn, "name", n.routing_rules.c.name),
    (notifications_rules.RuleChange, "name", n.routing_rules.c.name),
    (notifications_preferences.PreferencesIn, "slack_handle", n.preferences.c.slack_handle),
    (notifications_channels.TestSendIn, "address", n.deliveries.c.address),
    (
        notifications_comms_api.CommunicationRequest,
        "title",
        notifications_communications.communications.c.title,
    ),
    (
        notifications_reminders_api.ReminderRequest,
        "reminder_type",
        notifications_reminders.reminders.c.reminder_type,
    ),
]


def _max_length(model: type[BaseModel], field: str) -> int | None:
    """The field's maxLength in the JSON schema FastAPI publishes (through a nullable anyOf)."""
    prop = model.model_json_schema()["properties"][field]
    for option in [prop, *prop.get("anyOf", ())]:
        if "maxLength" in option:
            return int(option["maxLength"])
    return None


@pytest.mark.parametrize(
    ("model", "field", "column"), LIMITS, ids=[f"{m.__name__}.{f}" for m, f, _ in LIMITS]
)
def test_request_string_limits_are_the_columns(
    model: type[BaseModel], field: str, column: Column[Any]
) -> None:
    assert isinstance(column.type, String) and column.type.length, f"{column} is not a bounded string"
    assert _max_length(model, field) == column.type.length, (
        f"{model.__name__}.{field} allows {_max_length(model, field)} characters; "
        f"{column.table.name}.{column.name} holds {column.type.length}"
    )
