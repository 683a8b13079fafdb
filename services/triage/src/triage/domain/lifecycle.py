"""The incident lifecycle: a per-tenant status catalog (004 ``incident_statuses``) and the moves
it allows. Pure: no I/O.

Default catalog: open → acknowledged → in_progress → resolved → closed, plus reopen. A status
either lists the statuses it may move to (``next_statuses``), or, when it lists none, allows any
active status later in ``sort_order``. Reopening (moving back to the default status) is allowed
from ``resolved`` and from any terminal status. The platform gives four slugs a meaning of their
own (events, timestamps): ``open`` (the default), ``acknowledged``, ``resolved`` and ``closed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.enums import IncidentStatus, Priority

OPEN = IncidentStatus.OPEN.value
ACKNOWLEDGED = IncidentStatus.ACKNOWLEDGED.value
IN_PROGRESS = IncidentStatus.IN_PROGRESS.value
RESOLVED = IncidentStatus.RESOLVED.value
CLOSED = IncidentStatus.CLOSED.value


@dataclass(frozen=True)
class StatusDef:
    slug: str
    name: str
    sort_order: int
    is_terminal: bool = False
    is_default: bool = False
    next_statuses: tuple[str, ...] | None = None
    is_active: bool = True


DEFAULT_STATUSES: tuple[StatusDef, ...] = (
    StatusDef(OPEN, "Open", 10, is_default=True),
    StatusDef(ACKNOWLEDGED, "Acknowledged", 20),
    StatusDef(IN_PROGRESS, "In progress", 30),
    StatusDef(RESOLVED, "Resolved", 40),
    StatusDef(CLOSED, "Closed", 50, is_terminal=True),
)

# 004 incident_priorities: level 1 is the most urgent; the labels of 001's tier table.
DEFAULT_PRIORITIES: tuple[tuple[str, str, int], ...] = (
    (Priority.CRITICAL.value, "Critical", 1),
    (Priority.HIGH.value, "High", 2),
    (Priority.MEDIUM.value, "Medium", 3),
    (Priority.LOW.value, "Low", 4),
)

# 004 incident_categories "classification (type/department)"; a starting set, editable.
DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("application", "Application"),
    ("infrastructure", "Infrastructure"),
    ("network", "Network"),
    ("database", "Database"),
    ("security", "Security"),
    ("service_request", "Service request"),
    ("other", "Other"),
)


class TransitionRefused(Exception):
    """The move is not allowed by the tenant's catalog (the message says why)."""


class Catalog:
    """A tenant's statuses, by slug."""

    def __init__(self, statuses: Iterable[StatusDef]) -> None:
        self.by_slug: dict[str, StatusDef] = {s.slug: s for s in statuses}

    @property
    def default(self) -> StatusDef:
        for s in self.by_slug.values():
            if s.is_default and s.is_active:
                return s
        return self.by_slug.get(OPEN) or StatusDef(OPEN, "Open", 10, is_default=True)

    def _done(self, status: str) -> bool:
        here = self.by_slug.get(status)
        return status == RESOLVED or (here is not None and here.is_terminal)

    def is_finished(self, status: str) -> bool:
        """Resolved, closed or terminal: alerts no longer move the incident, nor escalation."""
        return status == CLOSED or self._done(status)

    def is_reopen(self, current: str, target: str) -> bool:
        return self._done(current) and target == self.default.slug

    def allowed_from(self, current: str) -> list[str]:
        here = self.by_slug.get(current)
        active = [s for s in self.by_slug.values() if s.is_active and s.slug != current]
        if here is None:  # a status since removed from the catalog: anywhere active
            targets = [s.slug for s in active]
        elif here.next_statuses is not None:
            targets = [s.slug for s in active if s.slug in here.next_statuses]
        else:
            targets = [s.slug for s in active if s.sort_order > here.sort_order]
        if self._done(current) and self.default.slug not in targets:
            targets.append(self.default.slug)
        return sorted(targets, key=lambda slug: self.by_slug[slug].sort_order)

    def check(self, current: str, target: str) -> None:
        if target not in self.by_slug or not self.by_slug[target].is_active:
            known = ", ".join(s.slug for s in self.by_slug.values() if s.is_active)
            raise TransitionRefused(f"status: {target!r} is not a status of this tenant (one of: {known})")
        if target == current:
            raise TransitionRefused(f"status: the incident is already {current}")
        allowed = self.allowed_from(current)
        if target not in allowed:
            raise TransitionRefused(
                f"status: cannot move from {current} to {target} (allowed: {', '.join(allowed) or 'none'})"
            )


def catalog_from_rows(rows: Iterable[Mapping[str, Any]]) -> Catalog:
    return Catalog(
        StatusDef(
            slug=str(r["slug"]),
            name=str(r["name"]),
            sort_order=int(r["sort_order"]),
            is_terminal=bool(r["is_terminal"]),
            is_default=bool(r["is_default"]),
            next_statuses=tuple(r["next_statuses"]) if r["next_statuses"] is not None else None,
            is_active=bool(r["is_active"]),
        )
        for r in rows
    )
