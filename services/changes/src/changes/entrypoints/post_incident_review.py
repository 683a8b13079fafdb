"""HTTP routes of post-incident reviews."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from backbone.app import Strict, UowDep
from changes.entrypoints.deps import ReviewManager, Viewer, listing, write
from changes.handlers import post_incident_review as handlers
from changes.views import post_incident_review as views
from contracts.enums import PostIncidentReviewStatus

router = APIRouter(prefix="/v1", tags=["post-incident reviews"])


class ReviewIn(Strict):
    incident_id: UUID
    facilitator_id: UUID
    scheduled_date: date
    overall_rating: int = Field(ge=1, le=5)


class ActionItemIn(Strict):
    description: str = Field(min_length=1, max_length=5000)
    owner_id: UUID
    due_date: date | None = None


class Done(Strict):
    summary: str | None = Field(default=None, max_length=50000)


@router.post("/post-incident-reviews", status_code=201, response_model=views.PostIncidentReview)
async def schedule(body: ReviewIn, request: Request, caller: ReviewManager, uow: UowDep) -> JSONResponse:
    """Schedule a post-incident review (002 "Managing Post-Incident Reviews"): 201 with status
    `scheduled`. Incident managers and executives. The incident must exist (422) and be closed
    (409); the facilitator must exist and be active (422); the rating is 1–5."""
    fields = body.model_dump()
    return await write(request, uow, caller, 201, lambda: handlers.schedule(uow, caller, fields))


@router.post(
    "/post-incident-reviews/{review_id}/action-items", status_code=201, response_model=views.ActionItem
)
async def add_action_item(
    review_id: UUID, body: ActionItemIn, request: Request, caller: ReviewManager, uow: UowDep
) -> JSONResponse:
    """Add an action item with its owner (an active user, 422 otherwise); the review is then
    in progress (409 once completed)."""
    fields = body.model_dump(exclude_none=True)
    return await write(
        request, uow, caller, 201, lambda: handlers.add_action_item(uow, caller, review_id, fields)
    )


@router.post("/post-incident-reviews/{review_id}/complete", response_model=views.PostIncidentReview)
async def complete(
    review_id: UUID, request: Request, caller: ReviewManager, uow: UowDep, body: Done | None = None
) -> JSONResponse:
    """Complete the review, with an optional summary (409 once completed)."""
    summary = body.summary if body else None
    return await write(
        request, uow, caller, 200, lambda: handlers.take_step(uow, caller, review_id, "complete", summary)
    )


@router.post("/post-incident-reviews/{review_id}/cancel", response_model=views.PostIncidentReview)
async def cancel(review_id: UUID, request: Request, caller: ReviewManager, uow: UowDep) -> JSONResponse:
    """Cancel a review that will not take place (409 once completed or cancelled)."""
    return await write(
        request, uow, caller, 200, lambda: handlers.take_step(uow, caller, review_id, "cancel")
    )


@router.get("/post-incident-reviews/{review_id}", response_model=views.PostIncidentReview)
async def get_review(review_id: UUID, caller: Viewer, uow: UowDep) -> dict[str, Any]:
    """One review with its action items (404 if unknown or out of the caller's scope)."""
    return await views.reader.get(uow.session, caller, review_id)


listing(
    router,
    "/post-incident-reviews",
    views.PostIncidentReview,
    views.reader,
    "list_reviews",
    "Reviews the caller may see, oldest first.",
    status=PostIncidentReviewStatus,
    incident_id=UUID,
)
