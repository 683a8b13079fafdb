"""Root cause analyses: start one on an incident, complete it with the root cause."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from changes.adapters import records
from changes.adapters import root_cause_analysis as store
from changes.domain import root_cause_analysis as rules
from changes.handlers import links
from contracts.enums import RcaStatus
from contracts.events.change import (
    RootCauseAnalysisApproved,
    RootCauseAnalysisCompleted,
    RootCauseAnalysisStarted,
)


async def conduct(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    scope = await links.scope_of_incident(uow, caller, fields["incident_id"])
    values = links.new_values(uow, caller, RcaStatus.IN_PROGRESS, "conducted_by_id", fields, scope)
    row = await records.add(uow.session, store.table, values)
    links.emit(uow, caller, RootCauseAnalysisStarted, row)
    return row


async def complete(
    uow: UnitOfWork, caller: Principal, rca_id: UUID, root_cause: str, findings: str
) -> dict[str, Any]:
    rca = await records.load(
        uow.session, store.table, rca_id, caller.tenant_id, what="root cause analysis", for_update=True
    )
    changed = rules.complete(rca, root_cause, findings, uow.now)
    row = await records.change(uow.session, store.table, rca_id, changed, uow.now)
    links.emit(uow, caller, RootCauseAnalysisCompleted, row)
    return row


async def approve(uow: UnitOfWork, caller: Principal, rca_id: UUID) -> dict[str, Any]:
    rca = await records.load(
        uow.session, store.table, rca_id, caller.tenant_id, what="root cause analysis", for_update=True
    )
    changed = rules.approve(rca, caller.role, caller.user_id, uow.now)
    row = await records.change(uow.session, store.table, rca_id, changed, uow.now)
    links.emit(uow, caller, RootCauseAnalysisApproved, row)
    return row
