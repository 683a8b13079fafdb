"""The contracts library: the only code services share (docs/architecture.md, "What runs")."""

from contracts import events
from contracts.envelope import SYSTEM, Actor, Envelope, EventData, event_class, is_known, new_id, utcnow
from contracts.topics import TOPIC_SPECS, Topic, TopicSpec, dlq_topic

__all__ = [
    "SYSTEM",
    "TOPIC_SPECS",
    "Actor",
    "Envelope",
    "EventData",
    "Topic",
    "TopicSpec",
    "dlq_topic",
    "event_class",
    "events",
    "is_known",
    "new_id",
    "utcnow",
]
