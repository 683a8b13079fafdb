"""Kafka subscriptions: the replicas the pre-checks read, and the changes tools report."""

from __future__ import annotations

from collections.abc import Mapping

from backbone.consumer import Handler, batched
from changes.handlers.change_request import record_reported
from changes.handlers.replicas import replicate_components, replicate_incidents
from contracts.events import ComponentRegistered
from contracts.events.incident import incident_event_types
from contracts.events.intake import ChangeReceived

# One object for every incident type, so a run of mixed incident events is one batch.
_incidents = batched(replicate_incidents)
HANDLERS: Mapping[str, Handler] = {cls.event_type: _incidents for cls in incident_event_types()} | {
    ComponentRegistered.event_type: batched(replicate_components),
    # Changes tools reported to intake (PagerDuty change events): completed change records.
    ChangeReceived.event_type: batched(record_reported),
}
