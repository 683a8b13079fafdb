"""Every event type, defined once. Importing this package registers them all."""

from contracts.events.directory import (
    ApiKeyIssued,
    ClientOnboarded,
    ClientUpdated,
    ComponentRegistered,
    IntegrationCreated,
    LabelRule,
    SubscriptionChanged,
    TenantCreated,
    UserRegistered,
    UserUpdated,
    VendorRegistered,
    token_sha256,
)
from contracts.events.incident import IncidentCreated
from contracts.events.intake import AlertRepeated, ImpactFacts, IncidentReported

__all__ = [
    "AlertRepeated",
    "ApiKeyIssued",
    "ClientOnboarded",
    "ClientUpdated",
    "ComponentRegistered",
    "ImpactFacts",
    "IncidentCreated",
    "IncidentReported",
    "IntegrationCreated",
    "LabelRule",
    "SubscriptionChanged",
    "TenantCreated",
    "UserRegistered",
    "UserUpdated",
    "VendorRegistered",
    "token_sha256",
]
