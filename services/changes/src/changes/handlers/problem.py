"""Problem tickets: open one from an incident, move it along its statuses, link more incidents."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.problems import NotFound, Unprocessable
from backbone.uow import UnitOfWork
from changes.adapters import problem as store
from changes.adapters import records, workaround
from changes.domain import problem as rules
from changes.handlers import links
from contracts.enums import ProblemTicketStatus
from contracts.events.change import ProblemIncidentLinked, ProblemOpened, ProblemUpdated


async def open_problem(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    scope = await links.scope_of_incident(uow, caller, fields["incident_id"])
    values = links.new_values(uow, caller, ProblemTicketStatus.OPEN, "issued_by_id", fields, scope)
    row = await records.add(uow.session, store.table, values)
    await store.link(uow.session, caller.tenant_id, row["id"], fields["incident_id"], uow.now)
    row = await store.with_incidents(uow.session, row)
    links.emit(uow, caller, ProblemOpened, row)
    return row


async def update(
    uow: UnitOfWork, caller: Principal, problem_id: UUID, fields: dict[str, Any]
) -> dict[str, Any]:
    problem = await records.load(
        uow.session, store.table, problem_id, caller.tenant_id, what="problem", for_update=True
    )
    if (workaround_id := fields.get("workaround_id")) is not None:
        try:
            await records.load(
                uow.session, workaround.table, workaround_id, caller.tenant_id, what="workaround"
            )
        except NotFound as exc:
            raise Unprocessable(
                f"workaround_id: no workaround {workaround_id}", field="workaround_id"
            ) from exc
    changed = rules.patch(problem, fields)
    row = await store.with_incidents(
        uow.session, await records.change(uow.session, store.table, problem_id, changed, uow.now)
    )
    links.emit(uow, caller, ProblemUpdated, row, changed=sorted(changed))
    return row


async def link_incident(
    uow: UnitOfWork, caller: Principal, problem_id: UUID, incident_id: UUID
) -> dict[str, Any]:
    problem = await records.load(
        uow.session, store.table, problem_id, caller.tenant_id, what="problem", for_update=True
    )
    await links.incident(uow, caller, incident_id)
    rules.check_link(problem, set(await store.incident_ids(uow.session, problem_id)), incident_id)
    await store.link(uow.session, caller.tenant_id, problem_id, incident_id, uow.now)
    row = await store.with_incidents(
        uow.session, await records.change(uow.session, store.table, problem_id, {}, uow.now)
    )
    links.emit(uow, caller, ProblemIncidentLinked, row, linked_incident_id=incident_id)
    return row
