"""The generic alert webhook (``POST /v1/alerts/generic``): a plain JSON shape for any tool that
can send a webhook but speaks neither Alertmanager nor PagerDuty. The body is one alert object
or a JSON array of them (see docs/intake.md):

    {"title": "Disk full on db1", "status": "firing", "dedup_key": "db1-disk",
     "severity": "critical", "description": "...", "labels": {"host": "db1"},
     "details": {"runbook": "https://..."}, "occurred_at": "2025-01-01T00:00:00Z"}

Only ``title`` is required. The dedup key is ``dedup_key`` when sent; else the integration's
grouping labels when it has some; else a hash of the title and the labels.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from intake.domain.limits import MAX_ALERTS_PER_REQUEST, MAX_DETAILS_JSON, MAX_LABELS, LabelName, Labels
from intake.domain.signals import Signal, group_key, label_hash

DetailValue = str | int | float | bool | None


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=300)
    status: Literal["firing", "resolved"] = "firing"
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    description: str = Field(default="", max_length=4000)
    severity: Annotated[str, StringConstraints(max_length=32)] | None = None
    labels: Labels = Field(default_factory=dict)
    details: Annotated[dict[LabelName, DetailValue], Field(max_length=MAX_LABELS)] = Field(
        default_factory=dict
    )
    occurred_at: datetime | None = None


class GenericBody(
    RootModel[
        GenericAlert | Annotated[list[GenericAlert], Field(min_length=1, max_length=MAX_ALERTS_PER_REQUEST)]
    ]
):
    def alerts(self) -> list[GenericAlert]:
        return self.root if isinstance(self.root, list) else [self.root]


def labels(alert: GenericAlert) -> dict[str, str]:
    """The labels, with the severity as the ``severity`` label unless one is sent."""
    out = dict(alert.labels)
    if alert.severity and "severity" not in out and len(out) < MAX_LABELS:
        out["severity"] = alert.severity
    return out


def dedup_key(alert: GenericAlert, grouping_labels: list[str], *, integration_id: UUID) -> str:
    if alert.dedup_key:
        return f"gen:{integration_id}:{alert.dedup_key}"
    if grouping_labels:
        return group_key("gen", grouping_labels, labels(alert), integration_id)
    digest = hashlib.sha256(f"{alert.title}\x00{label_hash(alert.labels)}".encode()).hexdigest()[:32]
    return f"gen:{integration_id}:sha256={digest}"


def signal(alert: GenericAlert, key: str) -> Signal:
    seen = labels(alert)
    details: dict[str, Any] = dict(alert.details)
    if len(json.dumps(details, default=str)) > MAX_DETAILS_JSON:
        details = {"details_truncated": True}
    return Signal(
        dedup_key=key,
        # One alert per explicit key; else the label set tells the alerts of a group apart.
        fingerprint=(alert.dedup_key or label_hash(seen))[:128],
        firing=alert.status == "firing",
        title=alert.title,
        labels=seen,
        description=alert.description,
        severity=alert.severity,
        details=details,
        starts_at=alert.occurred_at if alert.status == "firing" else None,
        ends_at=alert.occurred_at if alert.status == "resolved" else None,
    )
