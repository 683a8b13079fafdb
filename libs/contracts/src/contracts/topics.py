"""Kafka topic names and their layout (docs/architecture.md "Messages"): one topic per owning
aggregate family.

Names here are logical; a deployment may prefix them all (``KAFKA_TOPIC_PREFIX``) so that
several environments, or test runs, can share one broker.
"""

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    DIRECTORY_EVENTS = "directory.events"
    DIRECTORY_STATE = "directory.state"
    INTAKE_EVENTS = "intake.events"
    # Intake's own: accepted alert batches, appended before the answer and deduplicated by
    # intake's consumer (docs/adr/0013-durable-fast-ingest.md). No other service reads it.
    INTAKE_ALERTS = "intake.alerts"
    INCIDENT_EVENTS = "incident.events"
    SLA_EVENTS = "sla.events"
    CHANGE_EVENTS = "change.events"
    NOTIFICATION_EVENTS = "notification.events"
    AUDIT_EVENTS = "audit.events"


SERVICES = ("directory", "intake", "triage", "sla", "changes", "notifications", "audit")


def dlq_topic(service: str) -> str:
    """Each consumer (service) has its own dead-letter topic."""
    return f"{service}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False
    retention_ms: int | None = None


# Six partitions on event topics let a service run up to six consumers per group; per-key
# order (one incident's events) holds within a partition whatever the count.
EVENT_PARTITIONS = 6
SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000
THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000

TOPIC_SPECS: tuple[TopicSpec, ...] = (
    *(
        TopicSpec(t.value, EVENT_PARTITIONS, retention_ms=SEVEN_DAYS_MS)
        for t in Topic
        if t is not Topic.DIRECTORY_STATE
    ),
    TopicSpec(Topic.DIRECTORY_STATE.value, 3, compacted=True),
    # DLQs keep poison messages long enough for a person to look at them.
    *(TopicSpec(dlq_topic(s), 1, retention_ms=THIRTY_DAYS_MS) for s in SERVICES),
)
