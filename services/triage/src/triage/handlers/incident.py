"""Incidents from intake's events: opened from reports, alert counts, and the alert source's
acknowledgements and resolutions; and how every command on an incident ends (``apply``: save
what the domain decided, announce its events)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from contracts.envelope import Envelope
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    IncidentCreated,
    IncidentEvent,
    IncidentReported,
)
from triage.adapters import catalog as catalogs
from triage.adapters import incident as store
from triage.adapters import replica
from triage.domain.incident import (
    Incident,
    Links,
    Outcome,
    Prior,
    Who,
    as_json,
    is_recurrent,
    links,
    with_component_facts,
)
from triage.domain.lifecycle import Catalog, acknowledge_from_source, resolve_from_source
from triage.domain.severity import classify

DEFAULT_RECURRENCE_WINDOW = timedelta(days=7)


def person(caller: Principal) -> Who:
    """A person's change: recorded with their id and role, announced as their act."""
    return Who(caller.user_id, caller.role.value, "user", caller.actor)


async def apply(uow: UnitOfWork, outcome: Outcome, who: Who) -> Incident:
    """Save what a command did to an incident and announce its events, in this transaction."""
    await store.save(uow.session, outcome, who)
    _announce_outcome(uow, outcome, who)
    return outcome.incident


def _announce_outcome(uow: UnitOfWork, outcome: Outcome, who: Who) -> None:
    for data in outcome.events:
        uow.emit(data, tenant_id=outcome.incident.tenant_id, actor=who.actor, caused_by=who.caused_by)


def announce(
    uow: UnitOfWork, incident: Incident, data_cls: type[IncidentEvent], who: Who, **fields: Any
) -> None:
    """An event about the incident (its headline as it is), by ``who``."""
    uow.emit(
        incident.event(data_cls, **fields),
        tenant_id=incident.tenant_id,
        actor=who.actor,
        caused_by=who.caused_by,
    )


async def _history(
    uow: UnitOfWork, todo: Sequence[tuple[Envelope, IncidentReported]], window: timedelta
) -> list[Prior]:
    """Earlier incidents that could make any of ``todo`` recurrent: one query per batch."""
    return await store.priors(
        uow.session,
        {env.tenantid for env, _ in todo if env.tenantid is not None},
        {e.dedup_key for _, e in todo if e.dedup_key},
        {e.component_id for _, e in todo if e.component_id},
        min(e.detected_at for _, e in todo) - window,
    )


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
    existing = await store.existing(uow.session, (event.incident_id for _, event in reports))
    todo: list[tuple[Envelope, IncidentReported]] = []
    for envelope, event in reports:
        if envelope.tenantid is None:
            raise ValueError("intake.incident_reported.v1 without a tenant")
        if event.incident_id not in existing:  # the inbox keys on event id; this on the incident
            existing.add(event.incident_id)
            todo.append((envelope, event))
    if not todo:
        return
    known = await replica.components_by_id(
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
    priority_clients = await store.contractual_p1(
        uow.session, {lk.client_id for lk in linked_all.values() if lk.client_id is not None}
    )
    rows = []
    pending: dict[UUID, IncidentCreated] = {}
    causes: dict[UUID, tuple[UUID, Envelope]] = {}
    for tenant_id, items in by_tenant.items():
        codes = await store.reserve_references(uow.session, tenant_id, len(items))
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
                    "details": as_json(event.details),
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
    for incident_id in await store.insert_new(uow.session, rows):
        tenant_id, envelope = causes[incident_id]
        uow.emit(pending[incident_id], tenant_id=tenant_id, caused_by=envelope)


async def count_alerts(uow: UnitOfWork, repeats: list[tuple[Envelope, AlertRepeated]]) -> None:
    """Alerts repeated on open incidents: keep the highest count seen (events may arrive out of
    order, and a count must never go down)."""
    highest: dict[UUID, int] = {}
    for _, event in repeats:
        highest[event.incident_id] = max(highest.get(event.incident_id, 0), event.alert_count)
    await store.count_alerts(uow.session, highest)


async def _catalog(uow: UnitOfWork, cache: dict[UUID, Catalog], tenant_id: UUID) -> Catalog:
    """The tenant's status catalog, read once per batch."""
    if tenant_id not in cache:
        cache[tenant_id] = await catalogs.status_catalog(uow.session, tenant_id)
    return cache[tenant_id]


async def _from_source(
    uow: UnitOfWork,
    batch: Sequence[tuple[Envelope, AlertAcknowledged | AlertsResolved]],
    decide: Callable[[Incident, Who, Catalog, datetime], Outcome | None],
) -> None:
    """Apply what the alert source said of each incident of the batch, in order (an incident
    seen twice in one batch is decided on its state after the first), and save every outcome
    at once: a storm of resolutions costs a few statements per poll, not two per incident."""
    found = await store.lock_many(uow.session, (e.incident_id for _, e in batch))
    tenant_catalogs: dict[UUID, Catalog] = {}
    decided: list[tuple[Outcome, Who]] = []
    for envelope, event in batch:
        incident = found.get(event.incident_id)
        if incident is None:
            continue
        who = Who.alert(envelope)
        catalog = await _catalog(uow, tenant_catalogs, incident.tenant_id)
        at = event.acknowledged_at if isinstance(event, AlertAcknowledged) else event.resolved_at
        outcome = decide(incident, who, catalog, at)
        if outcome is not None:
            decided.append((outcome, who))
            _announce_outcome(uow, outcome, who)
            found[event.incident_id] = outcome.incident
    await store.save_many(uow.session, decided)


async def acknowledge_from_alerts(uow: UnitOfWork, batch: list[tuple[Envelope, AlertAcknowledged]]) -> None:
    """The alert source acknowledged (PagerDuty-format ``acknowledge``): the incident moves to
    acknowledged, unless it has been acknowledged already or is past that (then nothing)."""
    await _from_source(
        uow,
        batch,
        lambda incident, who, catalog, at: acknowledge_from_source(
            incident, who, catalog, at=at, now=uow.now
        ),
    )


async def resolve_from_alerts(uow: UnitOfWork, batch: list[tuple[Envelope, AlertsResolved]]) -> None:
    """Every alert of the incident resolved and its integration resolves automatically: the
    incident moves to resolved (via alert), unless it is resolved or closed already."""
    await _from_source(
        uow,
        batch,
        lambda incident, who, catalog, at: resolve_from_source(incident, who, catalog, at=at, now=uow.now),
    )
