"""How an incident is changed: loaded locked, edited, saved with one update record per changed
field (001 "Updating Incident Status": who, field, from, to, when) and its events emitted in
the same transaction. Shared by the handlers of every domain word."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic_core import to_jsonable_python
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import NotFound
from backbone.uow import UnitOfWork
from contracts.enums import AssignmentKind, Severity
from contracts.envelope import SYSTEM, Actor, Envelope, new_id
from contracts.events import IncidentTriaged
from contracts.events.intake import ImpactFacts
from triage.adapters import incidents as incident_queries
from triage.adapters.incidents import visible_to
from triage.adapters.orm import (
    incident_updates,
    incidents,
)
from triage.domain.severity import classify, effective

# Fields whose changes are kept as update records (timestamps and "by" columns follow from the
# status change they belong to).
RECORDED = (
    "title",
    "description",
    "category",
    "priority",
    "status",
    "severity",
    "computed_severity",
    "severity_flags",
    "severity_override",
    "impact",
    "metadata",
    "resolution",
    "deleted_at",
)
# Owner kinds: an assignee, or whom the work was delegated to.
OWNER_KINDS = (AssignmentKind.ASSIGNEE.value, AssignmentKind.DELEGATE.value)


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> Any:
    return to_jsonable_python(value)


@dataclass(frozen=True)
class Who:
    """Who makes a change: a person (``via`` user) or the alert source / the system."""

    user_id: UUID | None = None
    role: str | None = None
    via: str = "user"
    actor: Actor = SYSTEM
    caused_by: Envelope | None = None

    @classmethod
    def person(cls, caller: Principal) -> Who:
        return cls(caller.user_id, caller.role.value, "user", caller.actor)

    @classmethod
    def alert(cls, envelope: Envelope) -> Who:
        return cls(None, None, "alert", SYSTEM, envelope)


def headline(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields every incident event carries (contracts IncidentEvent)."""
    return {
        "incident_id": row["id"],
        "reference_code": row["reference_code"],
        "title": row["title"],
        "severity": Severity(row["severity"]),
        "status": row["status"],
        "priority": row["priority"],
        "client_id": row["client_id"],
        "component_id": row["component_id"],
        "vendor_id": row["vendor_id"],
    }


@dataclass
class Edit:
    """An incident being changed: ``before`` as loaded, ``after`` as it will be saved."""

    before: dict[str, Any]
    after: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.after = dict(self.before)

    def set(self, name: str, value: Any) -> None:
        self.after[name] = value

    def changed(self) -> dict[str, dict[str, Any]]:
        return {
            k: {"from": _json(self.before[k]), "to": _json(v)}
            for k, v in self.after.items()
            if k in self.before and _json(self.before[k]) != _json(v)
        }


def _emit(uow: UnitOfWork, row: Mapping[str, Any], data_cls: type[Any], who: Who, **fields: Any) -> None:
    uow.emit(
        data_cls(**headline(row), **fields),
        tenant_id=row["tenant_id"],
        actor=who.actor,
        caused_by=who.caused_by,
    )


async def _save(uow: UnitOfWork, edit: Edit, who: Who, note: str | None = None) -> dict[str, dict[str, Any]]:
    """Write the changed columns and one update record per recorded field; the changes."""
    changes = edit.changed()
    if not changes:
        return {}
    now = _now()
    edit.after["updated_at"] = now
    await uow.session.execute(
        update(incidents)
        .where(incidents.c.id == edit.before["id"])
        .values(**{k: edit.after[k] for k in changes}, updated_at=now)
    )
    records = [
        _record_row(edit.before, name, change["from"], change["to"], who, note, at=now)
        for name, change in changes.items()
        if name in RECORDED
    ]
    await _record(uow, records)
    return changes


async def _record(uow: UnitOfWork, records: list[dict[str, Any]]) -> None:
    if records:
        # JSONB NULL vs JSON null: None is stored as SQL NULL (from/to "nothing").
        await uow.session.execute(insert(incident_updates), records)


def _record_row(
    row: Mapping[str, Any],
    name: str,
    old: Any,
    new: Any,
    who: Who,
    note: str | None = None,
    *,
    at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": row["id"],
        "field": name,
        "from_value": _json(old),
        "to_value": _json(new),
        "changed_by": who.user_id,
        "changed_by_role": who.role,
        "via": who.via,
        "note": note,
        "changed_at": at or _now(),
    }


async def _locked(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    """The incident, locked for this transaction, if the caller may see it (404 otherwise)."""
    row = (
        (
            await uow.session.execute(
                select(incidents).where(incidents.c.id == incident_id, *visible_to(caller)).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return dict(row)


def _reclassify(edit: Edit) -> None:
    """Recompute flags and severity from the incident's facts; the effective severity is the
    override when there is one. Priority follows a change of the effective severity."""
    after = edit.after
    result = classify(
        ImpactFacts.model_validate(after["impact"] or {}),
        contractual_p1=bool(after["contractual_p1"]),
        recurrent=bool(after["recurrent"]),
    )
    override = Severity(after["severity_override"]) if after["severity_override"] else None
    severity = effective(result.severity, override)
    edit.set("computed_severity", result.severity.value)
    edit.set("severity_flags", result.flags)
    if severity.value != after["severity"]:
        edit.set("severity", severity.value)
        edit.set("priority", severity.priority.value)


def _emit_triaged(uow: UnitOfWork, edit: Edit, changes: Mapping[str, Any], who: Who) -> None:
    if not {"severity", "computed_severity", "severity_flags", "severity_override"} & changes.keys():
        return
    after = edit.after
    _emit(
        uow,
        after,
        IncidentTriaged,
        who,
        previous_severity=Severity(edit.before["severity"]),
        computed_severity=Severity(after["computed_severity"]),
        severity_flags=after["severity_flags"],
        override=after["severity_override"] is not None,
        override_reason=after["severity_override_reason"],
    )


async def _touch(uow: UnitOfWork, incident_id: UUID) -> None:
    await uow.session.execute(
        update(incidents).where(incidents.c.id == incident_id).values(updated_at=func.now())
    )


async def _visible(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    row = await incident_queries.get(uow.session, caller, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return row
