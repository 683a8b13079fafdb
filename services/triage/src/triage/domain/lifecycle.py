"""The incident lifecycle: a per-tenant status catalog (004 ``incident_statuses``) and the moves
it allows. Pure: no I/O.

Default catalog: open → acknowledged → in_progress → resolved → closed, plus reopen. A status
either lists the statuses it may move to (``next_statuses``), or, when it lists none, allows any
active status later in ``sort_order``. Reopening (moving back to the default status) is allowed
from ``resolved`` and from any terminal status. The platform gives four slugs a meaning of their
own (events, timestamps): ``open`` (the default), ``acknowledged``, ``resolved`` and ``closed``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backbone.problems import Conflict, Unprocessable
from contracts.enums import IncidentStatus, Priority
from contracts.events import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentUpdated,
)
from contracts.events.intake import ImpactFacts
from triage.domain.incident import Edit, Incident, Outcome, Record, Who, as_json, settle
from triage.domain.severity import reclassify, triaged

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


# --------------------------------------------------------------------------- moving an incident


def move(
    incident: Incident,
    target: str,
    who: Who,
    catalog: Catalog,
    *,
    now: datetime,
    at: datetime | None = None,
    note: str | None = None,
    resolution: str | None = None,
    check: bool = True,
    edit: Edit | None = None,
) -> Outcome:
    """Move the incident to ``target`` (checked against the catalog unless ``check`` is off),
    stamp what the move means, and say what to announce. A person moving it out of the default
    status acknowledges it (the first response) if nobody had. ``at``: when the move happened
    (the alert source's time), ``now`` when it is saved; ``edit``: field edits made with the
    move (a PATCH), saved and announced with it."""
    at = at or now
    current = incident.status
    known = catalog.by_slug.get(target)
    if known is None or not known.is_active:
        active = ", ".join(s.slug for s in catalog.by_slug.values() if s.is_active)
        raise Unprocessable(
            f"status: {target!r} is not a status of this tenant (one of: {active})", field="status"
        )
    if check:
        try:
            catalog.check(current, target)
        except TransitionRefused as exc:
            raise Conflict(str(exc), field="status", allowed=catalog.allowed_from(current)) from exc
    edit = edit or Edit(incident)
    edit.set(status=target)
    reopened = catalog.is_reopen(current, target)
    acknowledged = incident.acknowledged_at is None and (
        target == ACKNOWLEDGED or (who.via == "user" and current == catalog.default.slug and not reopened)
    )
    if acknowledged:
        edit.set(acknowledged_at=at, acknowledged_by=who.user_id)
    if target == RESOLVED:
        edit.set(resolved_at=at, resolved_by=who.user_id)
        if resolution is not None:
            edit.set(resolution=resolution)
    if target == CLOSED or known.is_terminal:
        edit.set(closed_at=at, closed_by=who.user_id)
    if reopened:
        edit.set(resolved_at=None, resolved_by=None, closed_at=None, closed_by=None)
    outcome = settle(edit, now, note)
    after, events = outcome.incident, outcome.events
    rest = {k: v for k, v in outcome.recorded.items() if k not in ("status", "resolution")}
    if rest:
        events.append(after.event(IncidentUpdated, changes=rest))
    events.extend(triaged(incident, outcome))
    events.append(after.event(IncidentStatusChanged, from_status=current, to_status=target, note=note))
    via = "alert" if who.via == "alert" else "user"
    if acknowledged:
        events.append(
            after.event(IncidentAcknowledged, acknowledged_at=at, acknowledged_by=who.user_id, via=via)
        )
    if target == RESOLVED:
        events.append(
            after.event(
                IncidentResolved,
                resolved_at=at,
                resolved_by=who.user_id,
                via=via,
                resolution=after.resolution,
                dedup_key=after.dedup_key,
            )
        )
    if after.closed_at is not None and incident.closed_at is None:
        events.append(
            after.event(IncidentClosed, closed_at=at, closed_by=who.user_id, dedup_key=after.dedup_key)
        )
    if reopened:
        events.append(after.event(IncidentReopened, reopened_at=at, reopened_by=who.user_id, reason=note))
    return outcome


def reopen(incident: Incident, who: Who, catalog: Catalog, *, reason: str, now: datetime) -> Outcome:
    """A resolved or closed incident goes back to the default status, with a reason."""
    target = catalog.default.slug
    if not catalog.is_reopen(incident.status, target):
        raise Conflict(
            f"status: only a resolved or closed incident can be reopened (it is {incident.status})"
        )
    return move(incident, target, who, catalog, now=now, note=reason)


def acknowledge_from_source(
    incident: Incident, who: Who, catalog: Catalog, *, at: datetime, now: datetime
) -> Outcome | None:
    """The alert source acknowledged: the incident moves to acknowledged, unless it has been
    acknowledged already or is past that (None: nothing to do). A custom catalog without that
    move still records the acknowledgement, without a move."""
    if incident.acknowledged_at is not None or catalog.is_finished(incident.status):
        return None
    if ACKNOWLEDGED in catalog.allowed_from(incident.status):
        return move(incident, ACKNOWLEDGED, who, catalog, now=now, at=at)
    edit = Edit(incident)
    edit.set(acknowledged_at=at)
    outcome = settle(edit, now)
    outcome.records.append(Record("acknowledged_at", None, as_json(at)))
    outcome.events.append(outcome.incident.event(IncidentAcknowledged, acknowledged_at=at, via="alert"))
    return outcome


def resolve_from_source(
    incident: Incident, who: Who, catalog: Catalog, *, at: datetime, now: datetime
) -> Outcome | None:
    """Every alert of the incident resolved and its integration resolves automatically: the
    incident moves to resolved, unless it is resolved or closed already (None). The source's
    word is final: no catalog check (a person's moves are checked)."""
    if catalog.is_finished(incident.status):
        return None
    return move(incident, RESOLVED, who, catalog, now=now, at=at, check=False)


EDITABLE = ("title", "description", "category", "priority", "metadata")
# Fields every incident has: sent as null they are refused (422), never stored as nothing.
REQUIRED = ("title", "description", "metadata")


def patch(
    incident: Incident,
    values: Mapping[str, Any],
    who: Who,
    *,
    now: datetime,
    note: str | None = None,
    categories: Collection[str] = (),
    priorities: Collection[str] = (),
    catalog: Catalog | None = None,
) -> Outcome:
    """Change fields of the incident (001 "Updating Incident Status"): ``values`` holds only the
    fields sent. ``impact`` merges into the facts and re-evaluates severity; ``status`` moves
    through the catalog's transition rules (``catalog`` is needed when it is sent and differs);
    a category or priority must be one of the tenant's active ones (``categories``,
    ``priorities``). Nothing sent that differs: nothing to save."""
    for name in REQUIRED:
        if name in values and values[name] is None:
            raise Unprocessable(f"{name}: may not be null", field=name)
    category, priority = values.get("category"), values.get("priority")
    if category is not None and category not in categories:
        raise Unprocessable(f"category: {category!r} is not an active category", field="category")
    if "priority" in values and (priority is None or priority not in priorities):
        raise Unprocessable(f"priority: {priority!r} is not an active priority", field="priority")
    edit = Edit(incident)
    edit.set(**{name: values[name] for name in EDITABLE if name in values})
    if "impact" in values:
        merged = {**(incident.impact or {}), **values["impact"]}
        edit.set(impact=ImpactFacts.model_validate(merged).model_dump(mode="json"))
        reclassify(edit)
    target = values.get("status")
    if target is not None and target != incident.status:
        assert catalog is not None, "a status move needs the tenant's catalog"
        return move(incident, target, who, catalog, now=now, note=note, edit=edit)
    if target is not None and not edit.changed():
        return Outcome(incident, at=now, note=note)
    outcome = settle(edit, now, note)
    if outcome.recorded:
        outcome.events.append(outcome.incident.event(IncidentUpdated, changes=outcome.recorded))
    outcome.events.extend(triaged(incident, outcome))
    return outcome
