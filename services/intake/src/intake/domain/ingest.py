"""Accepted alert batches (docs/adr/0013-durable-fast-ingest.md): what a request appends to the
``intake.alerts`` topic before it answers, and how intake's consumer cuts a poll of them into
runs it can deduplicate set-based without changing what one-after-the-other would have done."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from contracts.enums import IncidentSource
from contracts.envelope import Envelope
from intake.domain.signals import Signal

RECEIVED: Literal["intake.alerts_received.v1"] = "intake.alerts_received.v1"


class AlertBatch(BaseModel):
    """The alerts of one request that fall in one partition, parsed and keyed: either signals
    (firing or resolved) or PagerDuty acknowledgements (dedup keys)."""

    model_config = ConfigDict(frozen=True)

    integration_id: UUID
    source: IncidentSource
    received_at: datetime
    alerts: list[Signal] = []
    acknowledge: list[str] = []


class Received(Envelope):
    """The message on ``intake.alerts``: an envelope whose data is one batch, validated in one
    pass (the envelope and every alert)."""

    type: Literal["intake.alerts_received.v1"]
    data: AlertBatch  # type: ignore[assignment]  # the typed form of Envelope's dict


def partition_of(dedup_key: str, partitions: int) -> int:
    """The partition of a dedup key: stable across processes, so one key's alerts always queue
    in one partition, in the order they were accepted, and one consumer handles them."""
    return zlib.crc32(dedup_key.encode()) % partitions


def by_partition(keys: Sequence[str], partitions: int) -> dict[int, list[int]]:
    """The indexes of ``keys`` per partition, in order."""
    out: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        out.setdefault(partition_of(key, partitions), []).append(i)
    return out


@dataclass
class Run:
    """Batches of one integration, source and kind whose alerts one call can take together."""

    integration_id: UUID
    source: IncidentSource
    signals: list[Signal] = field(default_factory=list)
    acknowledge: list[str] = field(default_factory=list)
    _resolved: set[str] = field(default_factory=set)

    def takes(self, b: AlertBatch) -> bool:
        if (b.integration_id, b.source, bool(b.acknowledge)) != (
            self.integration_id,
            self.source,
            bool(self.acknowledge),
        ):
            return False
        # A key resolved earlier in the run and firing again must open a new incident after
        # the resolve: taken together the firing alert would keep the old one open.
        return not any(s.firing and s.dedup_key in self._resolved for s in b.alerts)

    def add(self, b: AlertBatch) -> None:
        self.signals.extend(b.alerts)
        self.acknowledge.extend(b.acknowledge)
        self._resolved.update(s.dedup_key for s in b.alerts if not s.firing)


def _keys(b: AlertBatch) -> set[str]:
    return {s.dedup_key for s in b.alerts} | set(b.acknowledge)


def runs(batches: Sequence[AlertBatch]) -> list[Run]:
    """The batches of a poll as runs, each handled by one call. Only one key's order matters
    (it is the order of its partition); batches of integrations sharing no key are gathered per
    integration, so a poll of interleaved integrations is still a few runs. When integrations
    share a key (``am:<fingerprint>`` of two Alertmanager integrations), the poll's order is kept."""
    ordered = list(batches)
    keys: dict[UUID, set[str]] = {}
    for b in ordered:
        keys.setdefault(b.integration_id, set()).update(_keys(b))
    seen: set[str] = set()
    disjoint = True
    for ks in keys.values():
        if seen & ks:
            disjoint = False
            break
        seen |= ks
    if disjoint:
        first = {iid: n for n, iid in enumerate(keys)}
        ordered.sort(key=lambda b: first[b.integration_id])  # stable: each one's order stays
    out: list[Run] = []
    for b in ordered:
        if not out or not out[-1].takes(b):
            out.append(Run(b.integration_id, b.source))
        out[-1].add(b)
    return out
