"""Triage event handlers, commands and queries. One function each; the caller's unit of work
commits. Every change of an incident writes one update record per changed field (001 "Updating
Incident Status": who, field, from, to, when) and its events in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic_core import to_jsonable_python
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from backbone.auth import Principal
from backbone.problems import Conflict, Forbidden, NotFound, Unprocessable
from backbone.tables import PRINCIPALS
from backbone.uow import UnitOfWork
from contracts.enums import AssignmentKind, EscalationTrigger, IncidentTaskStatus, Role, Severity, UserStatus
from contracts.envelope import SYSTEM, Actor, Envelope, new_id
from contracts.events import (
    AlertAcknowledged,
    AlertRepeated,
    AlertsResolved,
    CatalogItemChanged,
    ComponentRegistered,
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentAttachmentAdded,
    IncidentClosed,
    IncidentCommentAdded,
    IncidentCreated,
    IncidentDelegated,
    IncidentDeleted,
    IncidentEscalated,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    IncidentStatusChanged,
    IncidentTaskAdded,
    IncidentTaskUpdated,
    IncidentTriaged,
    IncidentUnassigned,
    IncidentUpdated,
    SubscriptionChanged,
)
from contracts.events.intake import ImpactFacts
from triage.adapters import catalogs
from triage.adapters import components as component_replica
from triage.adapters import incidents as incident_queries
from triage.adapters.incidents import IncidentFilters, visible_to
from triage.adapters.orm import (
    client_subscriptions,
    incident_assignments,
    incident_attachments,
    incident_comments,
    incident_escalations,
    incident_tasks,
    incident_updates,
    incidents,
    reference_counters,
)
from triage.domain.incident import (
    Component,
    Links,
    Prior,
    is_recurrent,
    links,
    reference_code,
    with_component_facts,
)
from triage.domain.lifecycle import ACKNOWLEDGED, CLOSED, RESOLVED, Catalog, TransitionRefused
from triage.domain.severity import classify, effective

DEFAULT_RECURRENCE_WINDOW = timedelta(days=7)

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


# --------------------------------------------------------------------------- events consumed


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


async def replicate_components(uow: UnitOfWork, batch: list[tuple[Envelope, ComponentRegistered]]) -> None:
    """Keep triage's copy of directory's components (newest event per component wins) and link
    incidents that were opened on one before it was known here."""
    latest: dict[UUID, Component] = {}
    for _, event in batch:  # in partition order, so the last one is the newest
        latest[event.component_id] = Component(
            id=event.component_id,
            tenant_id=event.tenant_id,
            client_id=event.client_id,
            vendor_id=event.vendor_id,
            business_critical=event.business_critical,
        )
    rows = list(latest.values())
    await component_replica.upsert(uow.session, rows)
    await component_replica.link_open_incidents(uow.session, rows)


async def replicate_subscriptions(uow: UnitOfWork, batch: list[tuple[Envelope, SubscriptionChanged]]) -> None:
    """Keep the clients' contractual P1 terms (newest event per client wins), and re-evaluate
    the not yet resolved incidents of a client whose terms changed."""
    latest: dict[UUID, tuple[Envelope, SubscriptionChanged]] = {}
    for envelope, event in batch:
        latest[event.client_id] = (envelope, event)
    stmt = insert(client_subscriptions).values(
        [
            {
                "client_id": e.client_id,
                "tenant_id": e.tenant_id,
                "tier": e.tier.value,
                "contractual_p1": e.contractual_p1,
            }
            for _, e in latest.values()
        ]
    )
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["client_id"],
            set_={
                "tier": stmt.excluded.tier,
                "contractual_p1": stmt.excluded.contractual_p1,
                "updated_at": func.now(),
            },
            where=client_subscriptions.c.tenant_id == stmt.excluded.tenant_id,
        )
    )
    for envelope, event in latest.values():
        rows = (
            await uow.session.execute(
                select(incidents)
                .where(
                    incidents.c.tenant_id == event.tenant_id,
                    incidents.c.client_id == event.client_id,
                    incidents.c.contractual_p1.is_not(event.contractual_p1),
                    incidents.c.status.not_in([RESOLVED, CLOSED]),
                    incidents.c.deleted_at.is_(None),
                )
                .with_for_update()
            )
        ).mappings()
        who = Who(via="system", caused_by=envelope)
        for row in rows.all():
            edit = Edit(dict(row))
            edit.set("contractual_p1", event.contractual_p1)
            _reclassify(edit)
            changes = await _save(uow, edit, who, note="the client's contractual P1 terms changed")
            _emit_triaged(uow, edit, changes, who)


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


# --------------------------------------------------------------------------- lifecycle


async def _move(
    uow: UnitOfWork,
    row: dict[str, Any],
    target: str,
    who: Who,
    catalog: Catalog,
    *,
    at: datetime | None = None,
    note: str | None = None,
    resolution: str | None = None,
    check: bool = True,
    edit: Edit | None = None,
) -> dict[str, Any]:
    """Move the incident to ``target`` (checked against the catalog unless ``check`` is off),
    stamp what the move means, write the update records and announce it. A person moving it
    out of the default status acknowledges it (the first response) if nobody had."""
    current = row["status"]
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
    when = at or _now()
    edit = edit or Edit(row)
    edit.set("status", target)
    reopened = catalog.is_reopen(current, target)
    acknowledged = row["acknowledged_at"] is None and (
        target == ACKNOWLEDGED or (who.via == "user" and current == catalog.default.slug and not reopened)
    )
    if acknowledged:
        edit.set("acknowledged_at", when)
        edit.set("acknowledged_by", who.user_id)
    if target == RESOLVED:
        edit.set("resolved_at", when)
        edit.set("resolved_by", who.user_id)
        if resolution is not None:
            edit.set("resolution", resolution)
    if target == CLOSED or known.is_terminal:
        edit.set("closed_at", when)
        edit.set("closed_by", who.user_id)
    if reopened:
        for name in ("resolved_at", "resolved_by", "closed_at", "closed_by"):
            edit.set(name, None)
    changes = await _save(uow, edit, who, note)
    after = edit.after
    rest = {k: v for k, v in changes.items() if k not in ("status", "resolution") and k in RECORDED}
    if rest:
        _emit(uow, after, IncidentUpdated, who, changes=rest)
    _emit_triaged(uow, edit, changes, who)
    _emit(uow, after, IncidentStatusChanged, who, from_status=current, to_status=target, note=note)
    via = "alert" if who.via == "alert" else "user"
    if acknowledged:
        _emit(
            uow, after, IncidentAcknowledged, who, acknowledged_at=when, acknowledged_by=who.user_id, via=via
        )
    if target == RESOLVED:
        _emit(
            uow,
            after,
            IncidentResolved,
            who,
            resolved_at=when,
            resolved_by=who.user_id,
            via=via,
            resolution=after["resolution"],
            dedup_key=after["dedup_key"],
        )
    if after["closed_at"] is not None and row["closed_at"] is None:
        _emit(
            uow,
            after,
            IncidentClosed,
            who,
            closed_at=when,
            closed_by=who.user_id,
            dedup_key=after["dedup_key"],
        )
    if reopened:
        _emit(uow, after, IncidentReopened, who, reopened_at=when, reopened_by=who.user_id, reason=note)
    return after


async def transition(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    target: str,
    *,
    note: str | None = None,
    resolution: str | None = None,
) -> dict[str, Any]:
    """A person moves the incident (acknowledge, resolve, close, reopen, or any catalog move)."""
    row = await _locked(uow, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, row["tenant_id"])
    return await _move(uow, row, target, Who.person(caller), catalog, note=note, resolution=resolution)


async def reopen(uow: UnitOfWork, caller: Principal, incident_id: UUID, reason: str) -> dict[str, Any]:
    row = await _locked(uow, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, row["tenant_id"])
    target = catalog.default.slug
    if not catalog.is_reopen(row["status"], target):
        raise Conflict(f"status: only a resolved or closed incident can be reopened (it is {row['status']})")
    return await _move(uow, row, target, Who.person(caller), catalog, note=reason)


EDITABLE = ("title", "description", "category", "priority", "metadata")


async def patch_incident(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any], note: str | None = None
) -> dict[str, Any]:
    """Change fields of the incident (001 "Updating Incident Status"): ``values`` holds only the
    fields sent. ``impact`` merges into the facts and re-evaluates severity; ``status`` moves
    through the catalog's transition rules. Nothing sent that differs: nothing written."""
    row = await _locked(uow, caller, incident_id)
    tenant_id = row["tenant_id"]
    edit = Edit(row)
    category, priority = values.get("category"), values.get("priority")
    if category is not None and category not in await catalogs.active_slugs(
        uow.session, "categories", tenant_id
    ):
        raise Unprocessable(f"category: {category!r} is not an active category", field="category")
    if "priority" in values and (
        priority is None or priority not in await catalogs.active_slugs(uow.session, "priorities", tenant_id)
    ):
        raise Unprocessable(f"priority: {priority!r} is not an active priority", field="priority")
    for name in EDITABLE:
        if name in values:
            edit.set(name, values[name])
    if "impact" in values:
        merged = {**(row["impact"] or {}), **values["impact"]}
        edit.set("impact", ImpactFacts.model_validate(merged).model_dump(mode="json"))
        _reclassify(edit)
    who = Who.person(caller)
    target = values.get("status")
    if target is not None and target != row["status"]:
        catalog = await catalogs.status_catalog(uow.session, tenant_id)
        return await _move(uow, row, target, who, catalog, note=note, edit=edit)
    if target is not None and target == row["status"] and not edit.changed():
        return row
    changes = await _save(uow, edit, who, note)
    rest = {k: v for k, v in changes.items() if k in RECORDED}
    if rest:
        _emit(uow, edit.after, IncidentUpdated, who, changes=rest)
    _emit_triaged(uow, edit, changes, who)
    return edit.after


async def override_severity(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, severity: Severity | None, reason: str | None
) -> dict[str, Any]:
    """An incident manager sets (or, with None, clears) the severity by hand, with a reason.
    The computed severity and every flag stay as they are and visible."""
    if caller.role is not Role.INCIDENT_MANAGER:
        raise Forbidden("only an incident manager may override the severity")
    row = await _locked(uow, caller, incident_id)
    edit = Edit(row)
    edit.set("severity_override", severity.value if severity else None)
    edit.set("severity_override_reason", reason if severity else None)
    edit.set("severity_overridden_by", caller.user_id if severity else None)
    edit.set("severity_overridden_at", _now() if severity else None)
    _reclassify(edit)
    who = Who.person(caller)
    changes = await _save(uow, edit, who, reason)
    _emit_triaged(uow, edit, changes, who)
    return edit.after


async def delete_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> None:
    """Soft delete: the record stays for the audit trail; queries no longer show it."""
    row = await _locked(uow, caller, incident_id)
    edit = Edit(row)
    now = _now()
    edit.set("deleted_at", now)
    edit.set("deleted_by", caller.user_id)
    who = Who.person(caller)
    await _save(uow, edit, who)
    _emit(uow, edit.after, IncidentDeleted, who, deleted_at=now, deleted_by=caller.user_id)


# --------------------------------------------------------------------------- assignment


async def _active_user(uow: UnitOfWork, tenant_id: UUID, user_id: UUID) -> None:
    """The user must be an active user of the tenant (as this service's replica knows them)."""
    row = (
        await uow.session.execute(
            select(PRINCIPALS.c.tenant_id, PRINCIPALS.c.status).where(PRINCIPALS.c.user_id == user_id)
        )
    ).first()
    if row is None or row.tenant_id != tenant_id:
        raise Unprocessable(f"user_id: no user {user_id} in this tenant", field="user_id")
    if row.status != UserStatus.ACTIVE.value:
        raise Unprocessable(f"user_id: the user is {row.status}", field="user_id")


async def _assignments(uow: UnitOfWork, incident_id: UUID, *, active_only: bool) -> list[dict[str, Any]]:
    query = select(incident_assignments).where(incident_assignments.c.incident_id == incident_id)
    if active_only:
        query = query.where(incident_assignments.c.is_active)
    rows = await uow.session.execute(
        query.order_by(incident_assignments.c.assigned_at, incident_assignments.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def _end_assignments(uow: UnitOfWork, ending: list[dict[str, Any]]) -> datetime:
    """End these assignments; when they ended."""
    now = _now()
    await uow.session.execute(
        update(incident_assignments)
        .where(incident_assignments.c.id.in_([a["id"] for a in ending]))
        .values(is_active=False, unassigned_at=now)
    )
    return now


def _holders(active: list[dict[str, Any]], kinds: Sequence[str]) -> list[str]:
    return sorted(str(a["user_id"]) for a in active if a["kind"] in kinds)


async def assign(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    user_id: UUID,
    kind: AssignmentKind,
    note: str | None,
) -> dict[str, Any]:
    """Add an assignee (several may work an incident) or a CC watcher; history is kept."""
    if kind is AssignmentKind.DELEGATE:
        raise Unprocessable("kind: use POST …/delegate to delegate", field="kind")
    row = await _locked(uow, caller, incident_id)
    await _active_user(uow, row["tenant_id"], user_id)
    active = await _assignments(uow, incident_id, active_only=True)
    kinds = OWNER_KINDS if kind is AssignmentKind.ASSIGNEE else (AssignmentKind.CC.value,)
    if str(user_id) in _holders(active, kinds):
        raise Conflict(
            f"user_id: {user_id} is already {'assigned' if kind is AssignmentKind.ASSIGNEE else 'CC'}"
        )
    now = _now()
    assignment = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "user_id": user_id,
        "kind": kind.value,
        "assigned_by": caller.user_id,
        "note": note,
        "assigned_at": now,
        "is_active": True,
    }
    await uow.session.execute(insert(incident_assignments).values(assignment))
    who = Who.person(caller)
    name = "assignees" if kind is AssignmentKind.ASSIGNEE else "cc"
    before = _holders(active, kinds)
    await _record(uow, [_record_row(row, name, before, sorted([*before, str(user_id)]), who, note)])
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentAssigned,
        who,
        assignment_id=assignment["id"],
        user_id=user_id,
        kind=kind,
        assigned_by=caller.user_id,
        note=note,
        assigned_at=now,
    )
    return assignment


async def unassign(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, user_id: UUID, kind: AssignmentKind
) -> list[dict[str, Any]]:
    """End a user's active assignment (or CC); the ended assignments."""
    row = await _locked(uow, caller, incident_id)
    active = await _assignments(uow, incident_id, active_only=True)
    kinds = OWNER_KINDS if kind is not AssignmentKind.CC else (AssignmentKind.CC.value,)
    ending = [a for a in active if a["user_id"] == user_id and a["kind"] in kinds]
    if not ending:
        raise NotFound(f"user {user_id} holds no active {kind.value} assignment on this incident")
    now = await _end_assignments(uow, ending)
    who = Who.person(caller)
    name = "cc" if kind is AssignmentKind.CC else "assignees"
    before = _holders(active, kinds)
    await _record(uow, [_record_row(row, name, before, [u for u in before if u != str(user_id)], who)])
    await _touch(uow, incident_id)
    for a in ending:
        _emit(uow, row, IncidentUnassigned, who, assignment_id=a["id"], user_id=user_id, unassigned_at=now)
        a.update(is_active=False, unassigned_at=now)
    return ending


async def delegate(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    user_id: UUID,
    from_user_id: UUID | None,
    note: str | None,
) -> dict[str, Any]:
    """Hand the work from one owner to another: the previous assignment ends, the new one keeps
    ``delegated_from``. Without ``from_user_id``: the caller if they own it, else the only owner."""
    row = await _locked(uow, caller, incident_id)
    await _active_user(uow, row["tenant_id"], user_id)
    active = await _assignments(uow, incident_id, active_only=True)
    owners = [a for a in active if a["kind"] in OWNER_KINDS]
    if from_user_id is None:
        mine = [a for a in owners if a["user_id"] == caller.user_id]
        if mine:
            from_user_id = caller.user_id
        elif len({a["user_id"] for a in owners}) == 1:
            from_user_id = owners[0]["user_id"]
        else:
            raise Unprocessable(
                "from_user_id: say whose work is delegated (the incident has "
                f"{len(owners)} owners and the caller is not one)",
                field="from_user_id",
            )
    ending = [a for a in owners if a["user_id"] == from_user_id]
    if not ending:
        raise Conflict(f"from_user_id: {from_user_id} is not assigned to this incident", field="from_user_id")
    if user_id == from_user_id or any(a["user_id"] == user_id for a in owners):
        raise Conflict(f"user_id: {user_id} is already assigned", field="user_id")
    now = await _end_assignments(uow, ending)
    assignment = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "user_id": user_id,
        "kind": AssignmentKind.DELEGATE.value,
        "assigned_by": caller.user_id,
        "delegated_from": from_user_id,
        "note": note,
        "assigned_at": now,
        "is_active": True,
    }
    await uow.session.execute(insert(incident_assignments).values(assignment))
    who = Who.person(caller)
    before = _holders(active, OWNER_KINDS)
    after = sorted([u for u in before if u != str(from_user_id)] + [str(user_id)])
    await _record(uow, [_record_row(row, "assignees", before, after, who, note)])
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentDelegated,
        who,
        assignment_id=assignment["id"],
        user_id=user_id,
        delegated_from=from_user_id,
        assigned_by=caller.user_id,
        note=note,
        assigned_at=now,
    )
    return assignment


async def assignments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    return await _assignments(uow, incident_id, active_only=False)


async def _touch(uow: UnitOfWork, incident_id: UUID) -> None:
    await uow.session.execute(
        update(incidents).where(incidents.c.id == incident_id).values(updated_at=func.now())
    )


async def _visible(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any]:
    row = await incident_queries.get(uow.session, caller, incident_id)
    if row is None:
        raise NotFound(f"no incident {incident_id}")
    return row


# --------------------------------------------------------------------------- manual escalation


async def escalate(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    reason: str,
    priority: str | None,
    severity: Severity | None,
) -> dict[str, Any]:
    """Manual escalation with a reason: raise the priority and/or the severity (an escalated
    severity is kept as an override; the computed one stays). With neither, the priority goes
    one level up. Only raising is an escalation; lowering is a PATCH or an override."""
    row = await _locked(uow, caller, incident_id)
    catalog = await catalogs.status_catalog(uow.session, row["tenant_id"])
    if catalog.is_finished(row["status"]):
        raise Conflict(f"status: a {row['status']} incident cannot be escalated; reopen it first")
    levels = {
        slug: r["level"]
        for slug, r in (await catalogs.active_slugs(uow.session, "priorities", row["tenant_id"])).items()
    }
    current_level = levels.get(row["priority"] or "", max(levels.values(), default=4) + 1)
    if priority is None and severity is None:
        higher = sorted((lvl, slug) for slug, lvl in levels.items() if lvl < current_level)
        if not higher:
            raise Conflict(
                "priority: the incident already has the most urgent priority; escalate its severity"
            )
        priority = higher[-1][1]
    if priority is not None:
        if priority not in levels:
            raise Unprocessable(f"priority: {priority!r} is not an active priority", field="priority")
        if levels[priority] >= current_level:
            raise Unprocessable(
                f"priority: {priority} is not more urgent than {row['priority']}", field="priority"
            )
    current_severity = Severity(row["severity"])
    if severity is not None and not (severity.rank < current_severity.rank):
        raise Unprocessable(
            f"severity: {severity.value} is not more severe than {current_severity.value}", field="severity"
        )
    edit = Edit(row)
    if severity is not None:
        edit.set("severity_override", severity.value)
        edit.set("severity_override_reason", reason)
        edit.set("severity_overridden_by", caller.user_id)
        edit.set("severity_overridden_at", _now())
        _reclassify(edit)
    if priority is not None:
        edit.set("priority", priority)
    who = Who.person(caller)
    changes = await _save(uow, edit, who, reason)
    now = _now()
    record = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "trigger": EscalationTrigger.MANUAL.value,
        "cause": "manual",
        "reason": reason,
        "from_priority": row["priority"],
        "to_priority": edit.after["priority"],
        "from_severity": row["severity"],
        "to_severity": edit.after["severity"],
        "escalated_by": caller.user_id,
        "escalated_at": now,
    }
    await uow.session.execute(insert(incident_escalations).values(record))
    _emit_triaged(uow, edit, changes, who)
    _emit(
        uow,
        edit.after,
        IncidentEscalated,
        who,
        escalation_id=record["id"],
        trigger=EscalationTrigger.MANUAL,
        cause="manual",
        reason=reason,
        from_priority=row["priority"],
        to_priority=edit.after["priority"],
        from_severity=current_severity,
        to_severity=Severity(edit.after["severity"]),
        escalated_by=caller.user_id,
        escalated_at=now,
    )
    return record


async def escalations(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(incident_escalations)
        .where(incident_escalations.c.incident_id == incident_id)
        .order_by(incident_escalations.c.escalated_at, incident_escalations.c.id)
    )
    return [dict(r) for r in rows.mappings()]


# --------------------------------------------------------------------------- comments


async def add_comment(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, body: str, is_internal: bool | None
) -> dict[str, Any]:
    """A comment. Client and vendor contacts write public comments only (and read only those);
    staff comments are internal unless said otherwise."""
    contact = caller.client_scoped or caller.vendor_scoped
    if contact and is_internal:
        raise Forbidden("client and vendor contacts write public comments only")
    row = await _locked(uow, caller, incident_id)
    comment = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "author_id": caller.user_id,
        "author_role": caller.role.value,
        "body": body,
        "is_internal": False if contact else (True if is_internal is None else is_internal),
        "created_at": _now(),
    }
    comment["updated_at"] = comment["created_at"]
    await uow.session.execute(insert(incident_comments).values(comment))
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentCommentAdded,
        Who.person(caller),
        comment_id=comment["id"],
        author_id=caller.user_id,
        body=body,
        is_internal=comment["is_internal"],
    )
    return comment


async def comments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    query = select(incident_comments).where(incident_comments.c.incident_id == incident_id)
    if caller.client_scoped or caller.vendor_scoped:
        query = query.where(incident_comments.c.is_internal.is_(False))
    rows = await uow.session.execute(query.order_by(incident_comments.c.created_at, incident_comments.c.id))
    return [dict(r) for r in rows.mappings()]


# --------------------------------------------------------------------------- tasks


async def add_task(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    row = await _locked(uow, caller, incident_id)
    if values.get("assignee_id") is not None:
        await _active_user(uow, row["tenant_id"], values["assignee_id"])
    now = _now()
    task = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "title": values["title"],
        "description": values.get("description") or "",
        "status": IncidentTaskStatus.OPEN.value,
        "assignee_id": values.get("assignee_id"),
        "due_at": values.get("due_at"),
        "sort_order": values.get("sort_order") or 0,
        "created_by": caller.user_id,
        "created_at": now,
        "updated_at": now,
        "completed_at": None,
    }
    await uow.session.execute(insert(incident_tasks).values(task))
    who = Who.person(caller)
    await _record(uow, [_record_row(row, "tasks", None, {"id": task["id"], "title": task["title"]}, who)])
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentTaskAdded,
        who,
        task_id=task["id"],
        task_title=task["title"],
        task_status=task["status"],
        assignee_id=task["assignee_id"],
        due_at=task["due_at"],
        sort_order=task["sort_order"],
    )
    return task


TASK_FIELDS = ("title", "description", "status", "assignee_id", "due_at", "sort_order")


async def update_task(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, task_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    row = await _locked(uow, caller, incident_id)
    task = (
        (
            await uow.session.execute(
                select(incident_tasks)
                .where(incident_tasks.c.id == task_id, incident_tasks.c.incident_id == incident_id)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if task is None:
        raise NotFound(f"no task {task_id} on incident {incident_id}")
    if values.get("assignee_id") is not None and values["assignee_id"] != task["assignee_id"]:
        await _active_user(uow, row["tenant_id"], values["assignee_id"])
    if "title" in values and not values["title"]:
        raise Unprocessable("title: may not be empty", field="title")
    new = dict(task)
    for name in TASK_FIELDS:
        if name in values:
            new[name] = values[name] if name != "sort_order" else (values[name] or 0)
    if new["status"] != task["status"]:
        new["completed_at"] = _now() if new["status"] == IncidentTaskStatus.COMPLETED.value else None
    changes = {
        k: {"from": _json(task[k]), "to": _json(new[k])}
        for k in TASK_FIELDS
        if _json(task[k]) != _json(new[k])
    }
    if not changes:
        return dict(task)
    new["updated_at"] = _now()
    await uow.session.execute(
        update(incident_tasks)
        .where(incident_tasks.c.id == task_id)
        .values(
            **{k: new[k] for k in changes}, completed_at=new["completed_at"], updated_at=new["updated_at"]
        )
    )
    who = Who.person(caller)
    await _record(
        uow,
        [
            _record_row(row, f"task.{k}", c["from"], c["to"], who, note=str(task_id))
            for k, c in changes.items()
        ],
    )
    await _touch(uow, incident_id)
    _emit(uow, row, IncidentTaskUpdated, who, task_id=task_id, task_status=new["status"], changes=changes)
    return new


async def tasks(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(incident_tasks)
        .where(incident_tasks.c.incident_id == incident_id)
        .order_by(incident_tasks.c.sort_order, incident_tasks.c.created_at, incident_tasks.c.id)
    )
    return [dict(r) for r in rows.mappings()]


# --------------------------------------------------------------------------- attachments


async def add_attachment(
    uow: UnitOfWork,
    caller: Principal,
    incident_id: UUID,
    *,
    storage_key: str,
    filename: str,
    mime_type: str,
    size_bytes: int,
    comment_id: UUID | None,
) -> dict[str, Any]:
    """Record an attachment whose content is already stored under ``storage_key``."""
    row = await _locked(uow, caller, incident_id)
    if comment_id is not None:
        found = await uow.session.scalar(
            select(incident_comments.c.id).where(
                incident_comments.c.id == comment_id, incident_comments.c.incident_id == incident_id
            )
        )
        if found is None:
            raise Unprocessable(f"comment_id: no comment {comment_id} on this incident", field="comment_id")
    attachment = {
        "id": new_id(),
        "tenant_id": row["tenant_id"],
        "incident_id": incident_id,
        "comment_id": comment_id,
        "storage_key": storage_key,
        "filename": filename,
        "mime_type": mime_type,
        "size_bytes": size_bytes,
        "uploaded_by": caller.user_id,
        "created_at": _now(),
    }
    await uow.session.execute(insert(incident_attachments).values(attachment))
    await _touch(uow, incident_id)
    _emit(
        uow,
        row,
        IncidentAttachmentAdded,
        Who.person(caller),
        attachment_id=attachment["id"],
        filename=filename,
        mime_type=mime_type,
        size_bytes=size_bytes,
        comment_id=comment_id,
        uploaded_by=caller.user_id,
    )
    return attachment


def _attachments_readable_by(caller: Principal) -> list[Any]:
    """Client and vendor contacts do not see files attached to internal comments."""
    if not (caller.client_scoped or caller.vendor_scoped):
        return []
    internal = select(incident_comments.c.id).where(incident_comments.c.is_internal)
    return [
        or_(incident_attachments.c.comment_id.is_(None), incident_attachments.c.comment_id.not_in(internal))
    ]


async def attachments(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(incident_attachments)
        .where(incident_attachments.c.incident_id == incident_id, *_attachments_readable_by(caller))
        .order_by(incident_attachments.c.created_at, incident_attachments.c.id)
    )
    return [dict(r) for r in rows.mappings()]


async def attachment(
    uow: UnitOfWork, caller: Principal, incident_id: UUID, attachment_id: UUID
) -> dict[str, Any]:
    await _visible(uow, caller, incident_id)
    row = (
        (
            await uow.session.execute(
                select(incident_attachments).where(
                    incident_attachments.c.id == attachment_id,
                    incident_attachments.c.incident_id == incident_id,
                    *_attachments_readable_by(caller),
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no attachment {attachment_id} on incident {incident_id}")
    return dict(row)


# --------------------------------------------------------------------------- catalogs


async def catalog_items(uow: UnitOfWork, caller: Principal, catalog: str) -> list[dict[str, Any]]:
    return await catalogs.items(uow.session, catalog, caller.tenant_id)


async def put_catalog_item(
    uow: UnitOfWork,
    caller: Principal,
    catalog: Literal["statuses", "categories", "priorities"],
    slug: str,
    values: dict[str, Any],
    *,
    create: bool,
) -> dict[str, Any]:
    """Create (``create``) or change one entry of a tenant's catalog. A status marked default
    takes that mark from the others (one default per tenant)."""
    table = catalogs.TABLES[catalog]
    existing = await catalogs.item(uow.session, catalog, caller.tenant_id, slug)
    if create and existing is not None:
        raise Conflict(f"slug: {catalog} already has {slug!r}", field="slug")
    if not create and existing is None:
        raise NotFound(f"no {catalog} entry {slug!r}")
    if catalog == "statuses" and values.get("next_statuses"):
        known = {r["slug"] for r in await catalogs.items(uow.session, "statuses", caller.tenant_id)} | {slug}
        unknown = sorted(set(values["next_statuses"]) - known)
        if unknown:
            raise Unprocessable(
                f"next_statuses: unknown statuses {', '.join(unknown)}", field="next_statuses"
            )
    if catalog == "statuses" and values.get("is_default"):
        await uow.session.execute(
            update(table)
            .where(table.c.tenant_id == caller.tenant_id, table.c.slug != slug)
            .values(is_default=False)
        )
    if existing is None:
        item = {"id": new_id(), "tenant_id": caller.tenant_id, "slug": slug, **values}
        await uow.session.execute(insert(table).values(item))
    else:
        if values:
            await uow.session.execute(
                update(table).where(table.c.id == existing["id"]).values(**values, updated_at=func.now())
            )
    saved = await catalogs.item(uow.session, catalog, caller.tenant_id, slug)
    assert saved is not None
    uow.emit(
        CatalogItemChanged(
            catalog=catalog,
            item_id=saved["id"],
            slug=slug,
            values=_json(
                {k: v for k, v in saved.items() if k not in ("id", "tenant_id", "created_at", "updated_at")}
            ),
        ),
        tenant_id=caller.tenant_id,
        actor=caller.actor,
    )
    return saved


# --------------------------------------------------------------------------- queries


async def get_incident(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> dict[str, Any] | None:
    """The incident if the caller may see it: their tenant, and their client or vendor for a
    client or vendor contact; None otherwise (the API answers 404 either way). With its active
    assignees and CC watchers."""
    row = await incident_queries.get(uow.session, caller, incident_id)
    if row is None:
        return None
    active = await _assignments(uow, incident_id, active_only=True)
    row["assignees"] = [a["user_id"] for a in active if a["kind"] in OWNER_KINDS]
    row["cc"] = [a["user_id"] for a in active if a["kind"] == AssignmentKind.CC.value]
    return row


async def list_incidents(
    uow: UnitOfWork, caller: Principal, filters: IncidentFilters
) -> list[dict[str, Any]]:
    """One page of the incidents the caller may see, in the order asked for."""
    return await incident_queries.search(uow.session, caller, filters)


async def updates(uow: UnitOfWork, caller: Principal, incident_id: UUID) -> list[dict[str, Any]]:
    """The incident's update records, oldest first."""
    await _visible(uow, caller, incident_id)
    rows = await uow.session.execute(
        select(incident_updates)
        .where(incident_updates.c.incident_id == incident_id)
        .order_by(incident_updates.c.changed_at, incident_updates.c.id)
    )
    return [dict(r) for r in rows.mappings()]
