"""Knowledge-base articles as the API reads them; a search by text and category."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from backbone.auth import Principal
from changes.adapters import kb_article as store
from changes.views import records
from contracts.enums import KbArticleStatus, KbArticleType, KbCategory

reader = records.Reader(store.table, "article")
KbArticle = records.model_of(
    store.table, "KbArticle", status=KbArticleStatus, article_type=KbArticleType, category=KbCategory
)


async def page(
    session: AsyncSession, caller: Principal, filters: dict[str, Any], after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    text = filters.pop("q", None)
    where = [store.matching(text)] if text else []
    return await reader.page(session, caller, filters, after, limit, where)
