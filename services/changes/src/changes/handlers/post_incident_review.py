"""Post-incident reviews: schedule one for a closed incident, add action items, complete it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from changes.adapters import post_incident_review as store
from changes.adapters import records
from changes.domain import post_incident_review as rules
from changes.handlers import links
from contracts.enums import PostIncidentReviewStatus
from contracts.envelope import new_id
from contracts.events.change import (
    PostIncidentReviewActionItemAdded,
    PostIncidentReviewCancelled,
    PostIncidentReviewCompleted,
    PostIncidentReviewScheduled,
)


async def schedule(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    incident = await links.incident(uow, caller, fields["incident_id"])
    await links.active_user(uow, caller, fields["facilitator_id"], "facilitator_id")
    rules.check_incident(incident.status)
    values = links.new_values(
        uow,
        caller,
        PostIncidentReviewStatus.SCHEDULED,
        "created_by_id",
        fields,
        {"client_id": incident.client_id, "vendor_id": incident.vendor_id},
    )
    row = await store.with_items(uow.session, await records.add(uow.session, store.table, values))
    links.emit(uow, caller, PostIncidentReviewScheduled, row)
    return row


async def add_action_item(
    uow: UnitOfWork, caller: Principal, review_id: UUID, fields: dict[str, Any]
) -> dict[str, Any]:
    review = await records.load(
        uow.session, store.table, review_id, caller.tenant_id, what="review", for_update=True
    )
    await links.active_user(uow, caller, fields["owner_id"], "owner_id")
    changed = rules.take_step(review, "add_action_item", uow.now)
    row = await records.change(uow.session, store.table, review_id, changed, uow.now)
    item = await store.add_action_item(
        uow.session,
        {
            **fields,
            "id": new_id(),
            "tenant_id": caller.tenant_id,
            "review_id": review_id,
            "created_at": uow.now,
        },
    )
    links.emit(
        uow,
        caller,
        PostIncidentReviewActionItemAdded,
        row,
        action_item_id=item["id"],
        owner_id=item["owner_id"],
    )
    return item


async def take_step(
    uow: UnitOfWork, caller: Principal, review_id: UUID, action: str, summary: str | None = None
) -> dict[str, Any]:
    """Complete the review (with its summary) or cancel it."""
    review = await records.load(
        uow.session, store.table, review_id, caller.tenant_id, what="review", for_update=True
    )
    changed = rules.take_step(review, action, uow.now, summary)
    row = await store.with_items(
        uow.session, await records.change(uow.session, store.table, review_id, changed, uow.now)
    )
    kind = PostIncidentReviewCompleted if action == "complete" else PostIncidentReviewCancelled
    links.emit(uow, caller, kind, row)
    return row
