"""Knowledge-base articles: record a draft, then submit, publish and archive it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backbone.auth import Principal
from backbone.uow import UnitOfWork
from changes.adapters import kb_article as store
from changes.adapters import records
from changes.domain import kb_article as rules
from changes.handlers import links
from contracts.enums import KbArticleStatus
from contracts.events.change import (
    KbArticleArchived,
    KbArticleCreated,
    KbArticleEvent,
    KbArticlePublished,
    KbArticleSubmitted,
)

EVENTS: dict[str, type[KbArticleEvent]] = {
    "submit": KbArticleSubmitted,
    "publish": KbArticlePublished,
    "archive": KbArticleArchived,
}


async def create(uow: UnitOfWork, caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    scope = await links.scope_of_incident(uow, caller, fields.get("incident_id"))
    if (reviewer := fields.get("reviewer_id")) is not None:
        rules.check_reviewer(caller.user_id, reviewer)
        await links.active_user(uow, caller, reviewer, "reviewer_id")
    values = links.new_values(uow, caller, KbArticleStatus.DRAFT, "created_by_id", fields, scope)
    row = await records.add(uow.session, store.table, values)
    links.emit(uow, caller, KbArticleCreated, row)
    return row


async def take_step(
    uow: UnitOfWork, caller: Principal, article_id: UUID, action: str, reviewer_id: UUID | None = None
) -> dict[str, Any]:
    article = await records.load(
        uow.session, store.table, article_id, caller.tenant_id, what="article", for_update=True
    )
    if reviewer_id is not None:
        await links.active_user(uow, caller, reviewer_id, "reviewer_id")
    changed = rules.take_step(article, action, caller.user_id, reviewer_id, uow.now)
    row = await records.change(uow.session, store.table, article_id, changed, uow.now)
    links.emit(uow, caller, EVENTS[action], row)
    return row
