"""SQL of incidents: loading one (locked) for a command and saving what the command changed
with its update records; the set-based writes of incidents opened from intake's reports; and
the queries of the incident list. A person's queries are always narrowed to what the caller may
see (docs/adr/0004-directory-and-access.md): the caller's tenant, and for a client or vendor
contact only incidents linked to its client or vendor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, bindparam, exists, func, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from backbone.rows import get_or_404
from contracts.envelope import new_id
from triage.adapters.orm import (
    client_subscriptions,
    incident_assignments,
    incident_updates,
    incidents,
    reference_counters,
)
from triage.domain.incident import Incident, Outcome, Prior, Record, Who, reference_code
from triage.domain.lifecycle import CLOSED, RESOLVED

# Sort keys of the incident list: the column, and whether its order is the id order.
SORTS = {
    "created": incidents.c.id,  # ids are UUIDv7: creation order
    "detected": incidents.c.detected_at,
    "updated": incidents.c.updated_at,
    "severity": incidents.c.severity,  # "P1" < "P2": ascending is most severe first
    "reference": incidents.c.reference_code,
}


@dataclass(frozen=True)
class IncidentFilters:
    """Filters of the incident list; empty sequences mean "any"."""

    status: Sequence[str] = ()
    severity: Sequence[str] = ()
    client_id: UUID | None = None
    component_id: UUID | None = None
    assignee_id: UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    # "-created" (newest first, the default), "created", "severity", "-updated" …
    sort: str = "-created"
    # keyset cursor: the last row's (sort value, id); for the default sort the id alone.
    after_value: Any = None
    after: UUID | None = None
    limit: int = 50


def _scope(caller: Principal) -> tuple[ColumnElement[bool], ...]:
    """Not deleted, and the contact's client or vendor scope (the tenant is get_or_404's)."""
    return (incidents.c.deleted_at.is_(None), *caller.scope(incidents.c.client_id, incidents.c.vendor_id))


def visible_to(caller: Principal) -> list[ColumnElement[bool]]:
    """The conditions every incident query of ``caller`` carries: tenant, not deleted, and the
    contact's client or vendor scope."""
    return [incidents.c.tenant_id == caller.tenant_id, *_scope(caller)]


async def visible(
    session: AsyncSession, caller: Principal, incident_id: UUID, *, for_update: bool = False
) -> Incident:
    """The incident if the caller may see it (locked for the transaction when ``for_update``);
    NotFound otherwise."""
    row = await get_or_404(
        session,
        incidents,
        incident_id,
        caller.tenant_id,
        what="incident",
        among=_scope(caller),
        for_update=for_update,
    )
    return Incident.of(row._mapping)


async def lock(session: AsyncSession, caller: Principal, incident_id: UUID) -> Incident:
    """The incident, locked for this transaction, if the caller may see it (404 otherwise)."""
    return await visible(session, caller, incident_id, for_update=True)


async def get(session: AsyncSession, caller: Principal, incident_id: UUID) -> dict[str, Any] | None:
    row = (
        (await session.execute(select(incidents).where(incidents.c.id == incident_id, *visible_to(caller))))
        .mappings()
        .first()
    )
    return dict(row) if row else None


async def lock_many(session: AsyncSession, ids: Iterable[UUID]) -> dict[UUID, Incident]:
    """The incidents (not deleted) of a batch of events, locked for this transaction."""
    rows = await session.execute(
        select(incidents)
        .where(incidents.c.id.in_(set(ids)), incidents.c.deleted_at.is_(None))
        .with_for_update()
    )
    return {r["id"]: Incident.of(r) for r in rows.mappings()}


async def lock_to_reassess(
    session: AsyncSession, tenant_id: UUID, client_id: UUID, contractual_p1: bool
) -> list[Incident]:
    """The client's incidents not yet resolved whose contractual P1 terms differ, locked."""
    rows = await session.execute(
        select(incidents)
        .where(
            incidents.c.tenant_id == tenant_id,
            incidents.c.client_id == client_id,
            incidents.c.contractual_p1.is_not(contractual_p1),
            incidents.c.status.not_in([RESOLVED, CLOSED]),
            incidents.c.deleted_at.is_(None),
        )
        .with_for_update()
    )
    return [Incident.of(r) for r in rows.mappings()]


# --------------------------------------------------------------------------- saving


def _record_row(
    incident: Incident, record: Record, who: Who, note: str | None, at: datetime
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "tenant_id": incident.tenant_id,
        "incident_id": incident.id,
        "field": record.field,
        "from_value": record.from_value,
        "to_value": record.to_value,
        "changed_by": who.user_id,
        "changed_by_role": who.role,
        "via": who.via,
        "note": note,
        "changed_at": at,
    }


async def record(
    session: AsyncSession,
    incident: Incident,
    records: Sequence[Record],
    who: Who,
    at: datetime,
    note: str | None = None,
) -> None:
    """Keep update records of the incident (who, field, from, to, when)."""
    if records:
        # JSONB NULL vs JSON null: None is stored as SQL NULL (from/to "nothing").
        await session.execute(
            insert(incident_updates), [_record_row(incident, r, who, note, at) for r in records]
        )


async def save(session: AsyncSession, outcome: Outcome, who: Who) -> None:
    """Write the changed columns and the outcome's update records."""
    await save_many(session, [(outcome, who)])


async def save_many(session: AsyncSession, outcomes: Sequence[tuple[Outcome, Who]]) -> None:
    """Write several outcomes, in order, in a few statements (a poll of alert events decides on
    many incidents): each incident's last state of every column any of its outcomes changed,
    one UPDATE per set of columns sent with the rows as parameters; every update record in one
    INSERT."""
    final: dict[UUID, tuple[Incident, set[str]]] = {}
    records: list[dict[str, Any]] = []
    for outcome, who in outcomes:
        incident = outcome.incident
        if outcome.changes:
            changed = final[incident.id][1] if incident.id in final else set()
            final[incident.id] = (incident, changed | set(outcome.changes))  # the later state wins
        assert outcome.at is not None or not outcome.records
        if outcome.at is not None:
            records += [_record_row(incident, r, who, outcome.note, outcome.at) for r in outcome.records]
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for incident, changed in final.values():
        columns = tuple(sorted(changed - {"updated_at"}))
        row = {"_id": incident.id, "updated_at": incident.updated_at}
        by_columns.setdefault(columns, []).append(row | {k: getattr(incident, k) for k in columns})
    for rows in by_columns.values():
        await session.execute(update(incidents).where(incidents.c.id == bindparam("_id")), rows)
    if records:
        # JSONB NULL vs JSON null: None is stored as SQL NULL (from/to "nothing").
        await session.execute(insert(incident_updates), records)


async def touch(session: AsyncSession, incident_id: UUID) -> None:
    """Something of the incident changed (an assignment, a comment …): its updated_at moves."""
    await session.execute(
        update(incidents).where(incidents.c.id == incident_id).values(updated_at=func.now())
    )


# --------------------------------------------------------------------------- opening from reports


async def existing(session: AsyncSession, ids: Iterable[UUID]) -> set[UUID]:
    return set((await session.scalars(select(incidents.c.id).where(incidents.c.id.in_(list(ids))))).all())


async def reserve_references(session: AsyncSession, tenant_id: UUID, count: int) -> list[str]:
    """``count`` consecutive per-tenant reference codes in one statement."""
    last = await session.scalar(
        insert(reference_counters)
        .values(tenant_id=tenant_id, last_number=count)
        .on_conflict_do_update(
            index_elements=["tenant_id"], set_={"last_number": reference_counters.c.last_number + count}
        )
        .returning(reference_counters.c.last_number)
    )
    assert last is not None
    return [reference_code(n) for n in range(last - count + 1, last + 1)]


async def priors(
    session: AsyncSession,
    tenant_ids: Iterable[UUID],
    dedup_keys: set[str],
    component_ids: set[UUID],
    since: datetime,
) -> list[Prior]:
    """Earlier incidents of these tenants with one of the dedup keys or components, detected
    since ``since``: what could make new ones recurrent (one query per batch)."""
    if not dedup_keys and not component_ids:
        return []
    conditions = []
    if dedup_keys:
        conditions.append(incidents.c.dedup_key.in_(dedup_keys))
    if component_ids:
        conditions.append(incidents.c.component_id.in_(component_ids))
    rows = await session.execute(
        select(
            incidents.c.tenant_id, incidents.c.dedup_key, incidents.c.component_id, incidents.c.detected_at
        ).where(
            incidents.c.tenant_id.in_(set(tenant_ids)),
            incidents.c.detected_at >= since,
            incidents.c.deleted_at.is_(None),
            or_(*conditions),
        )
    )
    return [Prior(r.tenant_id, r.dedup_key, r.component_id, r.detected_at) for r in rows]


async def contractual_p1(session: AsyncSession, client_ids: set[UUID]) -> set[UUID]:
    """Those of the clients whose subscription has contractual P1 terms."""
    if not client_ids:
        return set()
    rows = await session.scalars(
        select(client_subscriptions.c.client_id).where(
            client_subscriptions.c.client_id.in_(client_ids), client_subscriptions.c.contractual_p1
        )
    )
    return set(rows.all())


_INSERT_INCIDENTS = insert(incidents).on_conflict_do_nothing(index_elements=["id"]).returning(incidents.c.id)


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> list[UUID]:
    """Insert incidents; the ids of those inserted. ON CONFLICT: a replica that took over the
    partition may be handling the same report. Rows as parameters of one cached statement
    (sent as multi-row inserts), not a statement built and compiled per batch from the rows'
    values."""
    return list((await session.scalars(_INSERT_INCIDENTS, rows)).all())


async def count_alerts(session: AsyncSession, highest: dict[UUID, int]) -> None:
    """Keep the highest alert count seen per incident (GREATEST: events may arrive out of order,
    and a count must never go down)."""
    await session.execute(
        update(incidents)
        .where(incidents.c.id == bindparam("incident_id"))
        .values(
            alert_count=func.greatest(incidents.c.alert_count, bindparam("count")), updated_at=func.now()
        ),
        [{"incident_id": k, "count": v} for k, v in highest.items()],
    )


# --------------------------------------------------------------------------- reads


async def rows_of(
    session: AsyncSession, table: Table, incident_id: UUID, *order: str, where: Iterable[Any] = ()
) -> list[dict[str, Any]]:
    """The rows of ``table`` that belong to the incident (and match ``where``), ordered by the
    columns named in ``order``."""
    rows = await session.execute(
        select(table)
        .where(table.c.incident_id == incident_id, *where)
        .order_by(*(table.c[name] for name in order))
    )
    return [dict(r) for r in rows.mappings()]


async def updates(session: AsyncSession, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's update records, oldest first."""
    return await rows_of(session, incident_updates, incident_id, "changed_at", "id")


async def search(session: AsyncSession, caller: Principal, filters: IncidentFilters) -> list[dict[str, Any]]:
    """One keyset page in the asked order; ties broken by id in the same direction, so the
    cursor (last row's sort value and id) is stable while incidents keep arriving."""
    query = select(incidents).where(*visible_to(caller))
    if filters.status:
        query = query.where(incidents.c.status.in_(list(filters.status)))
    if filters.severity:
        query = query.where(incidents.c.severity.in_(list(filters.severity)))
    if filters.client_id is not None:
        query = query.where(incidents.c.client_id == filters.client_id)
    if filters.component_id is not None:
        query = query.where(incidents.c.component_id == filters.component_id)
    if filters.assignee_id is not None:
        query = query.where(
            exists().where(
                incident_assignments.c.incident_id == incidents.c.id,
                incident_assignments.c.user_id == filters.assignee_id,
                incident_assignments.c.is_active,
                incident_assignments.c.kind.in_(("assignee", "delegate")),
            )
        )
    if filters.created_from is not None:
        query = query.where(incidents.c.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(incidents.c.created_at < filters.created_to)
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                incidents.c.title.ilike(pattern),
                incidents.c.description.ilike(pattern),
                incidents.c.reference_code.ilike(pattern),
            )
        )
    descending = filters.sort.startswith("-")
    column = SORTS[filters.sort.lstrip("-")]
    if filters.after is not None:
        if column is incidents.c.id:
            query = query.where(
                incidents.c.id < filters.after if descending else incidents.c.id > filters.after
            )
        else:
            key = tuple_(column, incidents.c.id)
            bound = tuple_(
                literal(filters.after_value, column.type), literal(filters.after, incidents.c.id.type)
            )
            query = query.where(key < bound if descending else key > bound)
    if column is incidents.c.id:
        order = [incidents.c.id.desc() if descending else incidents.c.id.asc()]
    else:
        order = [c.desc() if descending else c.asc() for c in (column, incidents.c.id)]
    rows = (await session.execute(query.order_by(*order).limit(filters.limit))).mappings()
    return [dict(r) for r in rows]
