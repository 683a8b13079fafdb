"""HTTP routes of knowledge-base articles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from changes.entrypoints.deps import KbAuthor, Viewer, listing, write
from changes.handlers import kb_article as handlers
from changes.views import kb_article as views
from contracts.enums import KbArticleStatus, KbArticleType, KbCategory

router = APIRouter(prefix="/v1", tags=["knowledge base"])


class ArticleIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    article_type: KbArticleType
    category: KbCategory
    body: str | None = Field(default=None, max_length=100000)
    incident_id: UUID | None = None
    reviewer_id: UUID | None = None


class Submit(Strict):
    reviewer_id: UUID | None = None


@router.post("/kb-articles", status_code=201, response_model=views.KbArticle)
async def create(body: ArticleIn, request: Request, caller: KbAuthor, uow: UowDep) -> JSONResponse:
    """Record a knowledge-base article (002 "Creating Knowledge Base Articles"): 201 with
    status `draft`. Needs `kb_articles.create`. Category and type must be of their
    enumerations, a linked incident must exist, a reviewer exist, be active and not be the
    author (422 otherwise)."""
    fields = body.model_dump(exclude_none=True)
    return await write(request, uow, caller, 201, lambda: handlers.create(uow, caller, fields))


@router.post("/kb-articles/{article_id}/submit", response_model=views.KbArticle)
async def submit(
    article_id: UUID, request: Request, caller: KbAuthor, uow: UowDep, body: Submit | None = None
) -> JSONResponse:
    """Send a draft for review, to the reviewer given here or at creation (422 without one)."""
    reviewer = body.reviewer_id if body else None
    return await write(
        request, uow, caller, 200, lambda: handlers.take_step(uow, caller, article_id, "submit", reviewer)
    )


def _mover(action: str) -> Callable[..., Awaitable[JSONResponse]]:
    async def move(article_id: UUID, request: Request, caller: KbAuthor, uow: UowDep) -> JSONResponse:
        return await write(
            request, uow, caller, 200, lambda: handlers.take_step(uow, caller, article_id, action)
        )

    return move


router.post(
    "/kb-articles/{article_id}/publish",
    response_model=views.KbArticle,
    summary="Publish an article",
    description="By the article's reviewer only (403 otherwise); 409 unless it is in review.",
)(_mover("publish"))
router.post(
    "/kb-articles/{article_id}/archive",
    response_model=views.KbArticle,
    summary="Archive an article",
    description="Needs `kb_articles.create`; 409 once archived.",
)(_mover("archive"))


@router.get("/kb-articles/{article_id}", response_model=views.KbArticle)
async def get_article(article_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One article (404 if unknown or out of the caller's scope)."""
    return await views.reader.get(uow.session, caller, article_id)


listing(
    router,
    "/kb-articles",
    views.KbArticle,
    views,
    "search_articles",
    "Search articles by text and category (and type, status, incident), oldest first.",
    q=Annotated[str, Query(max_length=200, description="Text the title or body contains.")],
    category=KbCategory,
    article_type=KbArticleType,
    status=KbArticleStatus,
    incident_id=UUID,
)
