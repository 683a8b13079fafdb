"""HTTP routes of an incident's comments."""

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.app import Strict, UowDep
from triage.entrypoints.deps import Commenter, Viewer, _once
from triage.handlers import comment
from triage.views import comment as comment_views

router = APIRouter(prefix="/v1", tags=["incidents"])


class CommentOut(BaseModel):
    id: UUID
    incident_id: UUID
    author_id: UUID | None
    author_role: str | None
    body: str
    is_internal: bool
    created_at: datetime


class NewComment(Strict):
    body: str = Field(min_length=1, max_length=20000)
    is_internal: bool | None = Field(
        default=None, description="Staff comments are internal unless false; contacts' are public."
    )


@router.post("/incidents/{incident_id}/comments", response_model=CommentOut, status_code=201)
async def add_comment(
    incident_id: UUID, body: NewComment, request: Request, caller: Commenter, uow: UowDep
) -> JSONResponse:
    """Comment on an incident. Needs `incidents.comments.manage`. Client and vendor contacts
    write public comments only and read only public ones."""

    async def work() -> Any:
        row = await comment.add_comment(uow, caller, incident_id, body.body, body.is_internal)
        return CommentOut.model_validate(row).model_dump(mode="json")

    return await _once(request, uow, caller, 201, work)


@router.get("/incidents/{incident_id}/comments", response_model=list[CommentOut])
async def list_comments(incident_id: UUID, caller: Viewer, uow: UowDep) -> list[CommentOut]:
    """The comments the caller may read, oldest first."""
    return [CommentOut.model_validate(r) for r in await comment_views.comments(uow, caller, incident_id)]
