"""The Alertmanager webhook body (version 4) and how an alert maps to a dedup key and title.

Reference: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")  # data minimization: unknown fields are dropped

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)
    annotations: dict[str, str] = Field(default_factory=dict, max_length=64)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    fingerprint: str | None = Field(default=None, max_length=128)


class Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal["4"] = "4"
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    alerts: list[Alert] = Field(min_length=1, max_length=1000)


def fingerprint(alert: Alert) -> str:
    """Alertmanager's own fingerprint when sent; else a hash of the sorted label set."""
    if alert.fingerprint:
        return alert.fingerprint
    canonical = "\x00".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


MAX_DEDUP_KEY = 512  # the width of intake.dedup_keys.dedup_key


def dedup_key(
    alert: Alert, grouping_labels: list[str] | None = None, *, integration_id: UUID | None = None
) -> str:
    """By fingerprint unless the integration groups by labels: then one incident per group of
    the integration, keyed ``am:<integration id>:<label>=<value>&…`` (sorted, URL-encoded so a
    value holding ``&`` or ``=`` cannot make two groups collide; a missing label counts as empty,
    as in Prometheus). Two integrations never share a grouping key; a key too long for the
    column is replaced by its SHA-256."""
    if grouping_labels:
        labels = sorted(set(grouping_labels))
        group = urlencode([(k, alert.labels.get(k, "")) for k in labels])
        prefix = f"am:{integration_id}:" if integration_id else "am:"
        key = prefix + group
        if len(key) > MAX_DEDUP_KEY:
            key = prefix + "sha256=" + hashlib.sha256(group.encode()).hexdigest()
        return key
    return f"am:{fingerprint(alert)}"


def title(alert: Alert) -> str:
    summary = alert.annotations.get("summary") or alert.annotations.get("description")
    name = alert.labels.get("alertname", "alert")
    instance = alert.labels.get("instance") or alert.labels.get("service") or alert.labels.get("job")
    text = summary or (f"{name} on {instance}" if instance else name)
    return text[:300]
