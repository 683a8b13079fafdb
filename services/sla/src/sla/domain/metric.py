"""Performance metrics (002 "Recording Performance Metrics", docs/sla.md "Metrics"): durations
computed from an incident's times, never supplied, and their summaries. Pure."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.enums import MetricType

# Each metric: (from, to) timestamps of the incident, wall-clock minutes between them.
SPANS: dict[MetricType, tuple[str, str]] = {
    MetricType.MTTD: ("detected_at", "created_at"),  # detection: the fault began → the record
    MetricType.MTTA: ("created_at", "acknowledged_at"),
    MetricType.MTTR: ("created_at", "resolved_at"),
    MetricType.DOWNTIME: ("detected_at", "resolved_at"),
}


class MetricHalt(ValueError):
    """A halt condition of the procedure; ``status`` is the answer's (409 state, 422 data)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Recorded:
    minutes: float
    target_minutes: int | None
    met_target: bool | None


def compute(metric_type: MetricType, times: Mapping[str, datetime | None], target: int | None) -> Recorded:
    """The metric's value from the incident's times; halts unless the incident is closed and
    both ends of the span are known."""
    if times.get("closed_at") is None:
        raise MetricHalt("the incident is not closed: metrics are recorded for closed incidents", 409)
    start_name, end_name = SPANS[metric_type]
    start, end = times.get(start_name), times.get(end_name)
    if start is None or end is None:
        missing = start_name if start is None else end_name
        raise MetricHalt(f"{metric_type.value}: the incident has no {missing.removesuffix('_at')} time", 422)
    minutes = round(max(0.0, (end - start).total_seconds() / 60), 2)
    return Recorded(minutes, target, None if target is None else minutes <= target)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "p90": None, "mean": None}
    ordered = sorted(values)
    p90 = ordered[0] if len(ordered) == 1 else statistics.quantiles(ordered, n=10, method="inclusive")[8]
    return {
        "count": len(ordered),
        "median": round(statistics.median(ordered), 2),
        "p90": round(p90, 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """MTTA and MTTR (median, p90, mean, in minutes), and the breach rate of the clocks, over
    incident rows with created_at, acknowledged_at, resolved_at, clocks and breached."""
    rows = list(rows)
    mtta = [
        (r["acknowledged_at"] - r["created_at"]).total_seconds() / 60
        for r in rows
        if r["created_at"] and r["acknowledged_at"]
    ]
    mttr = [
        (r["resolved_at"] - r["created_at"]).total_seconds() / 60
        for r in rows
        if r["created_at"] and r["resolved_at"]
    ]
    clocks = sum(r["clocks"] for r in rows)
    breached = sum(r["breached"] for r in rows)
    return {
        "incidents": len(rows),
        "mtta_minutes": _stats(mtta),
        "mttr_minutes": _stats(mttr),
        "clocks": clocks,
        "breached": breached,
        "breach_rate": round(breached / clocks, 4) if clocks else None,
    }


def grouped(rows: Iterable[Mapping[str, Any]], key: str) -> list[dict[str, Any]]:
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return [{key: k, **summary(v)} for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))]
