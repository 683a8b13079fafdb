"""Reports from people: the manual report of a signed-in user and the public report form.
One function each; the caller's unit of work commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import Forbidden, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import IncidentSource, UserStatus
from contracts.envelope import new_id
from contracts.events import (
    ImpactFacts,
    Reporter,
)
from intake.adapters import reports as reports_repo
from intake.domain import reports as report_rules


async def report_incident(
    uow: UnitOfWork, caller: Principal, report: report_rules.ManualReport, now: datetime
) -> UUID:
    """001 "Creating Incidents": the pre-checks in the procedure's order, each halting with a
    clear error and nothing written; then the report, as an event triage opens the incident
    from. Answers the pre-allocated incident id."""
    status = await reports_repo.reporter_status(uow.session, caller.tenant_id, caller.user_id)
    if status is None:
        raise Unprocessable(f"reporter user {caller.user_id} does not exist in this tenant", field="reporter")
    if status != UserStatus.ACTIVE.value:
        raise Unprocessable(f"reporter user {caller.user_id} is {status}, not active", field="reporter")

    client_id = report.client_id
    if caller.client_scoped:  # docs/architecture.md: a client contact acts for their own client only
        if caller.client_id is None:
            raise Forbidden("this client contact is not linked to a client")
        if client_id is not None and client_id != caller.client_id:
            raise Forbidden("a client contact reports incidents of their own client only")
        client_id = caller.client_id
    if client_id is None:
        raise Unprocessable("client_id: the affected client is required", field="client_id")
    if await reports_repo.client(uow.session, caller.tenant_id, client_id) is None:
        raise Unprocessable(f"client {client_id} does not exist", field="client_id")

    component = None
    if report.component_id is not None:
        component = await reports_repo.component(uow.session, caller.tenant_id, report.component_id)
        if component is None:
            raise Unprocessable(f"component {report.component_id} does not exist", field="component_id")
        if component.client_id != client_id:
            raise Unprocessable(
                f"component {report.component_id} belongs to another client", field="component_id"
            )
    if caller.vendor_scoped and (component is None or component.vendor_id != caller.vendor_id):
        # A vendor contact sees only incidents linked to their vendor (docs/architecture.md), so they
        # report on a component their vendor runs.
        raise Forbidden("a vendor contact reports incidents of a component their vendor runs (component_id)")

    detected_at = report.detected_at or now
    if not report_rules.not_in_future(detected_at, now):
        raise Unprocessable("detected_at: lies in the future", field="detected_at")
    incident_id = new_id()
    reported = report.reported(
        incident_id,
        IncidentSource.MANUAL,
        Reporter(kind="user", id=caller.user_id),
        detected_at,
        client_id=client_id,
        component_id=report.component_id,
        impact=ImpactFacts.model_validate(report.impact.model_dump()),
    )
    uow.emit(reported, tenant_id=caller.tenant_id, actor=caller.actor)
    return incident_id


@dataclass(frozen=True)
class PublicTenant:
    id: UUID
    name: str


async def public_tenant(uow: UnitOfWork, slug: str) -> PublicTenant | None:
    row = await reports_repo.tenant_by_slug(uow.session, slug)
    return PublicTenant(row.id, row.name) if row is not None else None


async def count_public_submission(
    uow: UnitOfWork, tenant_id: UUID, client_key: str, now: datetime, window: timedelta
) -> int:
    """Counts a public submission of this (keyed) client address; answers the count so far in
    the current window, this one included."""
    return await reports_repo.count_hit(
        uow.session, tenant_id, client_key, report_rules.window_start(now, window)
    )


async def submit_public_report(
    uow: UnitOfWork, tenant_id: UUID, report: report_rules.PublicReport, now: datetime
) -> UUID:
    """004 "Public Intake": stores the reporter (only what the form asks) and the submission,
    and reports the incident. Answers the pre-allocated incident id."""
    incident_id, reporter_id = new_id(), new_id()
    contact = {
        "name": report.name,
        "email": str(report.email),
        "phone": report.phone,
        "organization": report.organization,
    }
    await reports_repo.add_submission(
        uow.session,
        tenant_id=tenant_id,
        incident_id=incident_id,
        reporter_id=reporter_id,
        submission_id=new_id(),
        contact=contact,
    )
    reporter = Reporter(kind="public", id=reporter_id, **contact)
    uow.emit(report.reported(incident_id, IncidentSource.PUBLIC, reporter, now), tenant_id=tenant_id)
    return incident_id
