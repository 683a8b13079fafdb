"""One alert, whatever format it came in (Alertmanager, PagerDuty Events v2, generic): what
deduplication, silences and auto-resolve need, and nothing else."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

MAX_DEDUP_KEY = 512  # the width of intake.dedup_keys.dedup_key


@dataclass(frozen=True)
class Signal:
    """``dedup_key`` says which incident the alert belongs to; ``fingerprint`` which alert of
    that incident it is (an incident resolves once every fingerprint has resolved)."""

    dedup_key: str
    fingerprint: str
    firing: bool
    title: str
    labels: Mapping[str, str]
    description: str = ""
    severity: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def label_hash(labels: Mapping[str, str]) -> str:
    """A stable hash of a label set, independent of order."""
    canonical = "\x00".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def group_key(
    prefix: str, grouping_labels: Sequence[str], labels: Mapping[str, str], integration_id: UUID | None
) -> str:
    """One key per group of the integration: ``<prefix>:<integration id>:<label>=<value>&…``
    (sorted, URL-encoded so a value holding ``&`` or ``=`` cannot make two groups collide; a
    missing label counts as empty, as in Prometheus). Two integrations never share a grouping
    key; a key too long for the column is replaced by its SHA-256."""
    names = sorted(set(grouping_labels))
    group = urlencode([(k, labels.get(k, "")) for k in names])
    head = f"{prefix}:{integration_id}:" if integration_id else f"{prefix}:"
    key = head + group
    if len(key) > MAX_DEDUP_KEY:
        key = head + "sha256=" + hashlib.sha256(group.encode()).hexdigest()
    return key
