"""Incidents from intake's events: opened from reports, alert counts, and the alert source's
acknowledgements and resolutions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    IncidentAcknowledged,
    IncidentCreated,
    IncidentReported,
)
from triage.adapters import catalogs
from triage.adapters import components as component_replica
from triage.adapters.orm import (
    client_subscriptions,
    incidents,
    reference_counters,
)
from triage.domain.incident import (
    Links,
    Prior,
    is_recurrent,
    links,
    reference_code,
    with_component_facts,
)
from triage.domain.lifecycle import ACKNOWLEDGED, RESOLVED, Catalog
from triage.domain.severity import classify
from triage.handlers.edits import (
    Edit,
    Who,
    _emit,
    _json,
    _record,
    _record_row,
    _save,
)
from triage.handlers.lifecycle import _move

DEFAULT_RECURRENCE_WINDOW = timedelta(days=7)


async def _reserve_references(uow: UnitOfWork, tenant_id: UUID, count: int) -> list[str]:
    """``count`` consecutive per-tenant reference codes in one statement."""
    last = await uow.session.scalar(
        insert(reference_counters)
        .values(tenant_id=tenant_id, last_number=count)
        .on_conflict_do_update(
            index_elements=["tenant_id"], set_={"last_number": reference_counters.c.last_number + count}
        )
        .returning(reference_counters.c.last_number)
    )
    assert last is not None
    return [reference_code(n) for n in range(last - count + 1, last + 1)]


async def _history(
    uow: UnitOfWork, todo: Sequence[tuple[Envelope, IncidentReported]], window: timedelta
) -> list[Prior]:
    """Earlier incidents that could make any of ``todo`` recurrent: one query per batch."""
    keys = {e.dedup_key for _, e in todo if e.dedup_key}
    comps = {e.component_id for _, e in todo if e.component_id}
    if not keys and not comps:
        return []
    tenants = {env.tenantid for env, _ in todo}
    since = min(e.detected_at for _, e in todo) - window
    conditions = []
    if keys:
        conditions.append(incidents.c.dedup_key.in_(keys))
    if comps:
        conditions.append(incidents.c.component_id.in_(comps))
    rows = await uow.session.execute(
        select(
            incidents.c.tenant_id, incidents.c.dedup_key, incidents.c.component_id, incidents.c.detected_at
        ).where(
            incidents.c.tenant_id.in_(tenants),
            incidents.c.detected_at >= since,
            incidents.c.deleted_at.is_(None),
            or_(*conditions),
        )
    )
    return [Prior(r.tenant_id, r.dedup_key, r.component_id, r.detected_at) for r in rows]


async def _contractual_p1(uow: UnitOfWork, client_ids: set[UUID]) -> set[UUID]:
    if not client_ids:
        return set()
    rows = await uow.session.scalars(
        select(client_subscriptions.c.client_id).where(
            client_subscriptions.c.client_id.in_(client_ids), client_subscriptions.c.contractual_p1
        )
    )
    return set(rows.all())


_INSERT_INCIDENTS = insert(incidents).on_conflict_do_nothing(index_elements=["id"]).returning(incidents.c.id)


class _HistoryIndex:
    """Earlier incidents by (tenant, dedup key) and (tenant, component), so a batch's recurrence
    checks each look at the priors that can match, not the whole history (quadratic in a storm)."""

    def __init__(self, priors: list[Prior]) -> None:
        self._by_key: dict[tuple[UUID, str], list[Prior]] = defaultdict(list)
        self._by_component: dict[tuple[UUID, UUID], list[Prior]] = defaultdict(list)
        for prior in priors:
            self.append(prior)

    def append(self, prior: Prior) -> None:
        if prior.dedup_key is not None:
            self._by_key[(prior.tenant_id, prior.dedup_key)].append(prior)
        if prior.component_id is not None:
            self._by_component[(prior.tenant_id, prior.component_id)].append(prior)

    def candidates(self, tenant_id: UUID, dedup_key: str | None, component_id: UUID | None) -> list[Prior]:
        """Every prior that could make an incident with this key or component recurrent."""
        found: list[Prior] = []
        if dedup_key is not None:
            found += self._by_key.get((tenant_id, dedup_key), ())
        if component_id is not None:
            found += self._by_component.get((tenant_id, component_id), ())
        return found


async def open_incidents(
    uow: UnitOfWork,
    reports: list[tuple[Envelope, IncidentReported]],
    *,
    recurrence_window: timedelta = DEFAULT_RECURRENCE_WINDOW,
) -> None:
    """Intake reported new incidents: record, classify and announce them (set-based: a storm
    of reports costs a few statements per batch, not several per incident). An incident on a
    known component takes the component's vendor (and its client when none was reported);
    its client's contractual P1 terms and the tenant's recent history feed the P1 flags."""
    ids = [event.incident_id for _, event in reports]
    existing = set((await uow.session.scalars(select(incidents.c.id).where(incidents.c.id.in_(ids)))).all())
    todo: list[tuple[Envelope, IncidentReported]] = []
    for envelope, event in reports:
        if envelope.tenantid is None:
            raise ValueError("intake.incident_reported.v1 without a tenant")
        if event.incident_id not in existing:  # the inbox keys on event id; this on the incident
            existing.add(event.incident_id)
            todo.append((envelope, event))
    if not todo:
        return
    known = await component_replica.by_id(
        uow.session, (event.component_id for _, event in todo if event.component_id)
    )
    by_tenant: dict[UUID, list[tuple[Envelope, IncidentReported]]] = defaultdict(list)
    linked_all: dict[UUID, Links] = {}
    for envelope, event in todo:
        tenant_id = envelope.tenantid
        assert tenant_id is not None  # refused above
        by_tenant[tenant_id].append((envelope, event))
        component = known.get(event.component_id) if event.component_id else None
        linked_all[event.incident_id] = links(tenant_id, event.client_id, component)
    await catalogs.ensure_seeded(uow.session, by_tenant)
    initial = await catalogs.default_statuses(uow.session, by_tenant)
    history = _HistoryIndex(await _history(uow, todo, recurrence_window))
    priority_clients = await _contractual_p1(
        uow, {lk.client_id for lk in linked_all.values() if lk.client_id is not None}
    )
    rows = []
    pending: dict[UUID, IncidentCreated] = {}
    causes: dict[UUID, tuple[UUID, Envelope]] = {}
    for tenant_id, items in by_tenant.items():
        codes = await _reserve_references(uow, tenant_id, len(items))
        for code, (envelope, event) in zip(codes, items, strict=True):
            component = known.get(event.component_id) if event.component_id else None
            linked = linked_all[event.incident_id]
            impact = with_component_facts(event.impact, tenant_id, component)
            contractual = linked.client_id in priority_clients
            recurrent = is_recurrent(
                history.candidates(tenant_id, event.dedup_key, event.component_id),
                tenant_id=tenant_id,
                dedup_key=event.dedup_key,
                component_id=event.component_id,
                detected_at=event.detected_at,
                window=recurrence_window,
            )
            # Later reports of this batch see the earlier ones as history.
            history.append(Prior(tenant_id, event.dedup_key, event.component_id, event.detected_at))
            classification = classify(impact, contractual_p1=contractual, recurrent=recurrent)
            severity = classification.severity
            rows.append(
                {
                    "id": event.incident_id,
                    "tenant_id": tenant_id,
                    "reference_code": code,
                    "title": event.title,
                    "description": event.description,
                    "status": initial[tenant_id],
                    "severity": severity.value,
                    "computed_severity": severity.value,
                    "severity_flags": classification.flags,
                    "priority": severity.priority.value,
                    "impact": impact.model_dump(mode="json"),
                    "source": event.source.value,
                    "dedup_key": event.dedup_key,
                    "client_id": linked.client_id,
                    "component_id": event.component_id,
                    "vendor_id": linked.vendor_id,
                    "labels": event.labels,
                    "detected_at": event.detected_at,
                    "category": event.category,
                    "contractual_p1": contractual,
                    "recurrent": recurrent,
                    "reporter": event.reporter.model_dump(mode="json") if event.reporter else None,
                    "alert_severity": event.alert_severity,
                    "details": _json(event.details),
                }
            )
            pending[event.incident_id] = IncidentCreated(
                incident_id=event.incident_id,
                reference_code=code,
                title=event.title,
                status=initial[tenant_id],
                severity=severity,
                priority=severity.priority.value,
                severity_flags=classification.flags,
                source=event.source,
                description=event.description,
                category=event.category,
                client_id=linked.client_id,
                component_id=event.component_id,
                vendor_id=linked.vendor_id,
                dedup_key=event.dedup_key,
                impact=impact,
                detected_at=event.detected_at,
            )
            causes[event.incident_id] = (tenant_id, envelope)
    # ON CONFLICT: a replica that took over the partition may be handling the same report.
    # Rows as parameters of one cached statement (sent as multi-row inserts), not a statement
    # built and compiled per batch from the rows' values.
    inserted = await uow.session.scalars(_INSERT_INCIDENTS, rows)
    for incident_id in inserted.all():
        tenant_id, envelope = causes[incident_id]
        uow.emit(pending[incident_id], tenant_id=tenant_id, caused_by=envelope)


async def count_alerts(uow: UnitOfWork, repeats: list[tuple[Envelope, AlertRepeated]]) -> None:
    """Alerts repeated on open incidents: keep the highest count seen (GREATEST: events may
    arrive out of order, and a count must never go down)."""
    highest: dict[UUID, int] = {}
    for _, event in repeats:
        highest[event.incident_id] = max(highest.get(event.incident_id, 0), event.alert_count)
    await uow.session.execute(
        update(incidents)
        .where(incidents.c.id == bindparam("incident_id"))
        .values(
            alert_count=func.greatest(incidents.c.alert_count, bindparam("count")), updated_at=func.now()
        ),
        [{"incident_id": k, "count": v} for k, v in highest.items()],
    )


async def _by_ids(uow: UnitOfWork, ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    rows = await uow.session.execute(
        select(incidents)
        .where(incidents.c.id.in_(set(ids)), incidents.c.deleted_at.is_(None))
        .with_for_update()
    )
    return {r["id"]: dict(r) for r in rows.mappings()}


async def _catalog(uow: UnitOfWork, cache: dict[UUID, Catalog], tenant_id: UUID) -> Catalog:
    """The tenant's status catalog, read once per batch."""
    if tenant_id not in cache:
        cache[tenant_id] = await catalogs.status_catalog(uow.session, tenant_id)
    return cache[tenant_id]


async def acknowledge_from_alerts(uow: UnitOfWork, batch: list[tuple[Envelope, AlertAcknowledged]]) -> None:
    """The alert source acknowledged (PagerDuty-format ``acknowledge``): the incident moves to
    acknowledged, unless it has been acknowledged already or is past that (then nothing)."""
    found = await _by_ids(uow, [e.incident_id for _, e in batch])
    tenant_catalogs: dict[UUID, Catalog] = {}
    for envelope, event in batch:
        row = found.get(event.incident_id)
        if row is None or row["acknowledged_at"] is not None:
            continue
        catalog = await _catalog(uow, tenant_catalogs, row["tenant_id"])
        if catalog.is_finished(row["status"]):
            continue
        who = Who.alert(envelope)
        if ACKNOWLEDGED in catalog.allowed_from(row["status"]):
            found[event.incident_id] = await _move(
                uow, row, ACKNOWLEDGED, who, catalog, at=event.acknowledged_at
            )
        else:  # a custom catalog without that move: the acknowledgement is still recorded
            edit = Edit(row)
            edit.set("acknowledged_at", event.acknowledged_at)
            await _save(uow, edit, who)
            await _record(uow, [_record_row(row, "acknowledged_at", None, event.acknowledged_at, who)])
            _emit(
                uow, edit.after, IncidentAcknowledged, who, acknowledged_at=event.acknowledged_at, via="alert"
            )
            found[event.incident_id] = edit.after


async def resolve_from_alerts(uow: UnitOfWork, batch: list[tuple[Envelope, AlertsResolved]]) -> None:
    """Every alert of the incident resolved and its integration resolves automatically: the
    incident moves to resolved (via alert), unless it is resolved or closed already."""
    found = await _by_ids(uow, [e.incident_id for _, e in batch])
    tenant_catalogs: dict[UUID, Catalog] = {}
    for envelope, event in batch:
        row = found.get(event.incident_id)
        if row is None:
            continue
        catalog = await _catalog(uow, tenant_catalogs, row["tenant_id"])
        if catalog.is_finished(row["status"]):
            continue
        # The source's word is final: no catalog check (a person's moves are checked).
        found[event.incident_id] = await _move(
            uow, row, RESOLVED, Who.alert(envelope), catalog, at=event.resolved_at, check=False
        )
