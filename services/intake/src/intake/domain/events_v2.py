"""PagerDuty Events API v2, as intake accepts it on ``POST /v1/alerts/events``.

Reference: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ . The routing key
is the token of an ``events_v2`` integration. ``trigger`` opens an incident or attaches to the
open one with the same ``dedup_key`` (generated when absent); ``acknowledge`` and ``resolve``
need the ``dedup_key`` of a trigger. Fields intake has no use for (images, links, client,
client_url) are dropped.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from intake.domain.limits import MAX_DETAILS_JSON, MAX_LABEL_VALUE, MAX_LABELS
from intake.domain.signals import Signal

MAX_DEDUP_KEY = 255  # as PagerDuty

SEVERITIES = ("critical", "error", "warning", "info")


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: datetime | None = None
    component: str | None = Field(default=None, max_length=255)
    group: str | None = Field(default=None, max_length=255)
    class_: str | None = Field(default=None, alias="class", max_length=255)
    custom_details: Any = None


class Routed(BaseModel):
    """An event for an integration: PagerDuty's routing key names it (alert and change events)."""

    model_config = ConfigDict(extra="ignore")

    routing_key: str = Field(min_length=1, max_length=200)


class Event(Routed):
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, min_length=1, max_length=MAX_DEDUP_KEY)
    payload: Payload | None = None

    @model_validator(mode="after")
    def _required_by_action(self) -> Event:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("'payload' is required for event_action trigger")
        if self.event_action != "trigger" and self.dedup_key is None:
            raise ValueError(f"'dedup_key' is required for event_action {self.event_action}")
        return self


class Invalid(Exception):
    """An event PagerDuty would refuse with 400; ``errors`` are one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def parse(body: bytes) -> Event:
    return validate(Event, body)


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], body: bytes) -> M:
    """The body as ``model`` (an alert or a change event), or Invalid with PagerDuty's errors."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(["the body is not valid JSON"]) from exc
    if not isinstance(raw, dict):
        raise Invalid(["the body must be a JSON object"])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            errors.append(f"{where}: {e['msg']}" if where else e["msg"].removeprefix("Value error, "))
        raise Invalid(errors) from exc


def source_key(event: Event) -> str:
    """The dedup key the source uses: its own, or a fresh one for a trigger without one."""
    return event.dedup_key or uuid.uuid4().hex


def dedup_key(integration_id: UUID, key: str) -> str:
    """Dedup keys are the integration's own (as PagerDuty's are its service's)."""
    return f"ev2:{integration_id}:{key}"


def _optional(payload: Payload) -> dict[str, str]:
    """The optional standard fields that are set."""
    fields = {"component": payload.component, "group": payload.group, "class": payload.class_}
    return {name: value for name, value in fields.items() if value}


def labels(payload: Payload) -> dict[str, str]:
    """The label view of an event, which impact rules and silences match on: the standard
    fields, then scalar custom details by their own name (never overriding a standard one)."""
    out: dict[str, str] = {"severity": payload.severity, "source": payload.source, **_optional(payload)}
    if isinstance(payload.custom_details, dict):
        for name, value in payload.custom_details.items():
            if len(out) >= MAX_LABELS:
                break
            if isinstance(value, str | int | float | bool) and name and name not in out and len(name) <= 128:
                out[name] = str(value).lower() if isinstance(value, bool) else str(value)[:MAX_LABEL_VALUE]
    return out


def details(payload: Payload) -> dict[str, Any]:
    """The extra fields kept on the incident; custom details only while they are small."""
    out: dict[str, Any] = {"source": payload.source, **_optional(payload)}
    if payload.custom_details is not None:
        if len(json.dumps(payload.custom_details, default=str)) <= MAX_DETAILS_JSON:
            out["custom_details"] = payload.custom_details
        else:
            out["custom_details_truncated"] = True
    return out


def signal(event: Event, key: str, *, integration_id: UUID) -> Signal:
    """A trigger or resolve as a signal. One event key is one alert: its fingerprint is the key."""
    stored = dedup_key(integration_id, key)
    if event.event_action == "trigger":
        assert event.payload is not None
        p = event.payload
        return Signal(
            dedup_key=stored,
            fingerprint=key[:128],
            firing=True,
            title=p.summary[:300],
            labels=labels(p),
            description=p.summary if len(p.summary) > 300 else "",
            severity=p.severity,
            details=details(p),
            starts_at=p.timestamp,
        )
    return Signal(dedup_key=stored, fingerprint=key[:128], firing=False, title="", labels={})
