"""The Alertmanager webhook body (version 4) and how an alert maps to a dedup key and title.

Reference: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from intake.domain.limits import MAX_ALERTS_PER_REQUEST, Annotations, Labels
from intake.domain.signals import MAX_DEDUP_KEY, Signal, group_key, label_hash

__all__ = ["MAX_DEDUP_KEY", "Alert", "Webhook", "dedup_key", "fingerprint", "signal", "title"]


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore")  # data minimization: unknown fields are dropped

    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    fingerprint: str | None = Field(default=None, max_length=128)

    @cached_property
    def identity(self) -> str:
        """The fingerprint, or a hash of the sorted label set (computed once: the dedup key and
        the stored alert both need it)."""
        return self.fingerprint or label_hash(self.labels)


class Webhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal["4"] = "4"
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupKey: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    alerts: list[Alert] = Field(min_length=1, max_length=MAX_ALERTS_PER_REQUEST)


def fingerprint(alert: Alert) -> str:
    """Alertmanager's own fingerprint when sent; else a hash of the sorted label set."""
    return alert.identity


def dedup_key(
    alert: Alert, grouping_labels: list[str] | None = None, *, integration_id: UUID | None = None
) -> str:
    """By fingerprint unless the integration groups by labels: then one incident per group of
    the integration, keyed ``am:<integration id>:<label>=<value>&…`` (see ``signals.group_key``)."""
    if grouping_labels:
        return group_key("am", grouping_labels, alert.labels, integration_id)
    return f"am:{fingerprint(alert)}"


def signal(alert: Alert, key: str) -> Signal:
    """The alert as intake keeps it: labels, the two annotations worth showing, times."""
    return Signal(
        dedup_key=key,
        fingerprint=fingerprint(alert),
        firing=alert.status == "firing",
        title=title(alert),
        labels=alert.labels,
        description=alert.annotations.get("description", "")[:4000],
        severity=alert.labels.get("severity") or None,
        starts_at=alert.startsAt,
        # Alertmanager sends endsAt in the future for firing alerts: only a resolve's is a fact.
        ends_at=alert.endsAt if alert.status == "resolved" else None,
    )


def title(alert: Alert) -> str:
    summary = alert.annotations.get("summary") or alert.annotations.get("description")
    name = alert.labels.get("alertname", "alert")
    instance = alert.labels.get("instance") or alert.labels.get("service") or alert.labels.get("job")
    text = summary or (f"{name} on {instance}" if instance else name)
    return text[:300]
