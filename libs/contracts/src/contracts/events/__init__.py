"""Every event type, defined once. Importing this package registers them all."""

from contracts.events.directory import TenantCreated, UserRegistered
from contracts.events.incident import IncidentCreated
from contracts.events.intake import AlertRepeated, IncidentReported

__all__ = ["AlertRepeated", "IncidentCreated", "IncidentReported", "TenantCreated", "UserRegistered"]
