"""Incident reports (002 "Generating Incident Reports"): check the request, build the report
from the incident's audit records, keep it, and announce it (so the log records who generated
which report)."""

from __future__ import annotations

from typing import Any

from audit.adapters import report as store
from audit.domain import report as rules
from backbone.auth import Principal
from backbone.problems import Conflict, Problem, Unprocessable
from backbone.uow import UnitOfWork
from contracts.enums import UserStatus
from contracts.envelope import new_id
from contracts.events.audit import ReportGenerated

PROBLEMS: dict[int, type[Problem]] = {409: Conflict, 422: Unprocessable}


async def generate(
    uow: UnitOfWork, caller: Principal, request: rules.ReportRequest, *, max_records: int
) -> dict[str, Any]:
    """The pre-checks in the procedure's order (the generating user, the incident, the report
    type's demands), each halting with a clear 4xx and nothing written; then the report."""
    status = await store.user_status(uow.session, caller.tenant_id, caller.user_id)
    if status is None:
        raise Unprocessable(f"user {caller.user_id} does not exist in this tenant", field="generated_by")
    if status != UserStatus.ACTIVE.value:
        raise Unprocessable(f"user {caller.user_id} is {status}, not active", field="generated_by")

    rows = await store.incident_entries(uow.session, caller.tenant_id, request.incident_id, max_records + 1)
    records = [
        rules.Record(
            index=r.leaf_index,
            event_id=r.event_id,
            event_type=r.event_type,
            subject=r.subject,
            occurred_at=r.occurred_at,
            actor=r.actor,
            data=r.data,
        )
        for r in rows
    ]
    try:
        rules.check(request, records, max_records=max_records)
    except rules.Refused as refused:
        extra = {"field": refused.field} if refused.field else {}
        raise PROBLEMS.get(refused.status, Problem)(refused.detail, status=refused.status, **extra) from None

    report_id = new_id()
    content = rules.build(request, records, report_id=report_id, generated_by=caller.user_id, now=uow.now)
    # What the row keeps and the event announces about the report (its content stays here).
    facts: dict[str, Any] = {
        "incident_id": request.incident_id,
        "report_type": request.report_type,
        "status": request.status,
        "generated_by_id": caller.user_id,
        "generated_at": uow.now,
        "records": len(records),
    }
    await store.add(
        uow.session, {"id": report_id, "tenant_id": caller.tenant_id, **facts, "content": content}
    )
    uow.emit(ReportGenerated(report_id=report_id, **facts), tenant_id=caller.tenant_id, actor=caller.actor)
    return {"report_id": report_id}
